"""Fixtures for the fault tests: private Redis and PostgreSQL instances, the fake LLM server."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.fakes.fixtures import fake_llm  # noqa: F401  (the fixture)
from tests.reliability.services import PrivatePostgres, PrivateRedis


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a shared database: set DATABASE_URL to PostgreSQL")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    if server.binary is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if reason := PrivatePostgres.unavailable_reason():
        pytest.skip(reason)
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            cluster.stop()
        cluster.remove()
