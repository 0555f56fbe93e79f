"""Fixtures for the fault tests: private Redis and PostgreSQL instances, the fake LLM server."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.reliability.services import PrivatePostgres, PrivateRedis


def _unavailable(reason: str) -> None:
    """CI (REQUIRE_SERVICES) must run these tests: a missing tool fails there instead of skipping."""
    if os.environ.get("REQUIRE_SERVICES"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a shared database: set DATABASE_URL to PostgreSQL")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    if server.binary is None:
        _unavailable("redis-server is not installed (.ci/run installs it)")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if reason := PrivatePostgres.unavailable_reason():
        _unavailable(reason)
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            cluster.stop()
        cluster.remove()
