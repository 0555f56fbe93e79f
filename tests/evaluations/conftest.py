"""Experiments' tests: their actors (execute_run, advance_experiment) on the test's own StubBroker."""

from __future__ import annotations

import pytest
from dramatiq.brokers.stub import StubBroker


@pytest.fixture(autouse=True)
def _private_broker(broker: StubBroker) -> StubBroker:
    """No evaluations test may send a message to a real broker, even one that never asks for `broker`."""
    return broker
