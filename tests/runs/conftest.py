"""The runs tests: each gets its own StubBroker (tests/fixtures/workers.py)."""

from __future__ import annotations

import pytest
from dramatiq.brokers.stub import StubBroker


@pytest.fixture(autouse=True)
def _private_broker(broker: StubBroker) -> StubBroker:
    """No runs test may send a message to a real broker, even one that never asks for `broker`."""
    return broker
