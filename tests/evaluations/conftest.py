"""Experiments' tests: the advance actor on the test's StubBroker, a real worker."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from evaluations.tasks import advance_experiment


@pytest.fixture(autouse=True)
def _private_advance(broker: StubBroker) -> Iterator[StubBroker]:
    """The advance actor on the test's own StubBroker, like execute_run: nothing reaches a real broker."""
    previous = advance_experiment.broker
    advance_experiment.broker = broker
    broker.declare_actor(advance_experiment)
    yield broker
    advance_experiment.broker = previous


@pytest.fixture
def eval_worker(_private_advance: StubBroker) -> Iterator[dramatiq.Worker]:
    """A real Dramatiq worker executing both the runs and the advances; use with transactional_db."""
    running = dramatiq.Worker(_private_advance, worker_threads=4, worker_timeout=50)
    running.start()
    yield running
    running.stop()
