"""Fixtures for the security tests: alice's objects of every kind, a private MEDIA_ROOT and StubBroker."""

from __future__ import annotations

from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker

from tests.security.owned import Owned, make_owned


@pytest.fixture(autouse=True)
def _private_media_root(media_root: Path) -> Path:
    return media_root


@pytest.fixture(autouse=True)
def _private_broker(broker: StubBroker) -> StubBroker:
    """Runs started by these tests never reach a real broker."""
    return broker


@pytest.fixture
def owned(alice, media_root) -> Owned:
    return make_owned(alice)
