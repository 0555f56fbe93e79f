"""Fixtures shared by the whole suite: named users, API clients, real-service gates, the fake LLM server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory

REQUIRE_SERVICES = bool(os.environ.get("REQUIRE_SERVICES"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`services` tests need PostgreSQL and Redis: they skip without them, unless REQUIRE_SERVICES is set."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if not missing or REQUIRE_SERVICES:
        return
    skip = pytest.mark.skip(reason=f"needs real services: set {', '.join(missing)}")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    yield
    if hasattr(cache, "delete_pattern"):
        # Only Weft's own keys: the broker's queues may share this Redis database.
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> APIClient:
    return _client_for(alice)


@pytest.fixture
def bob_client(bob) -> APIClient:
    return _client_for(bob)
