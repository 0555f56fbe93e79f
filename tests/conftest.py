"""Suite-wide hooks (real-service gates, a clean cache per test); shared fixtures live in tests/fixtures/."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.cache import cache

pytest_plugins = [
    "tests.fixtures.users",
    "tests.fixtures.llm",
    "tests.fixtures.workers",
    "tests.fixtures.storage",
    "tests.fixtures.web",
    "tests.fixtures.code",
]

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
