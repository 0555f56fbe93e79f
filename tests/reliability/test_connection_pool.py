"""The production web server (gunicorn, two uvicorn workers) under 64 concurrent requests per endpoint holds
at most workers x DATABASE_POOL_MAX_SIZE PostgreSQL connections and answers every request: the pools, not
the number of threads that served a request, bound the connections. Its Redis pool is smaller than the
requests in flight too: a request waits for a Redis connection rather than failing."""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from accounts.services import api_token_create
from tests.factories import UserFactory, WorkflowRunFactory
from tests.runs import processes
from tests.runs.processes import child_env, free_port, kill_group, start_web, wait_http

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.usefixtures("postgres_only")]

WEB_WORKERS = 2
POOL_MAX_SIZE = 4
REDIS_MAX_CONNECTIONS = 4
# More requests in flight on one process than redis-py's default pool (100) lends connections.
BURST = 160
CONCURRENCY = 64
SECONDS_PER_ENDPOINT = 2.0
APPLICATION_NAME = "weft-pool-test"


def _hammer(url: str, token: str, clients: int = CONCURRENCY) -> Counter:
    """`clients` clients requesting `url` back to back for SECONDS_PER_ENDPOINT; their statuses."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS_PER_ENDPOINT

    def client() -> None:
        while time.monotonic() < deadline:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


class ConnectionWatch:
    """Samples the server's PostgreSQL sessions (by application name) until stopped; keeps the peak."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def _sample(self) -> None:
        with psycopg.connect(processes.test_database_url(), autocommit=True) as conn:
            while not self._stop.wait(0.05):
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
                ).fetchone()
                self.peak = max(self.peak, count)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_web_processes_hold_at_most_their_pools_connections_under_load(transactional_db, tmp_path: Path):
    alice = UserFactory(email="alice@example.com")
    token = api_token_create(owner=alice, name="load").secret
    run = WorkflowRunFactory(owner=alice, status="succeeded")
    endpoints = [
        "/api/health",
        "/api/workflows",
        f"/api/workflows/{run.workflow_id}",
        "/api/runs",
        f"/api/runs/{run.id}",
    ]
    port = free_port()
    env = child_env(
        f"weft-test-{uuid.uuid4().hex[:10]}",
        DATABASE_URL=f"{processes.test_database_url()}?application_name={APPLICATION_NAME}",
        DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
        DATABASE_POOL_MIN_SIZE="1",
        REDIS_MAX_CONNECTIONS=str(REDIS_MAX_CONNECTIONS),
    )
    server = start_web(env, port=port, log=tmp_path / "gunicorn.log", workers=WEB_WORKERS)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/api/health")
        statuses = {}
        with ConnectionWatch() as watch:
            for path in endpoints:
                statuses[path] = _hammer(base + path, token)
    finally:
        kill_group(server, signal.SIGTERM)

    log = (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]
    print({path: dict(counts) for path, counts in statuses.items()}, "peak connections:", watch.peak)
    for path, counts in statuses.items():
        assert set(counts) == {200}, (path, counts, log)
        assert counts[200] >= CONCURRENCY, (path, counts)
    assert 0 < watch.peak <= WEB_WORKERS * POOL_MAX_SIZE, log


def test_a_burst_past_redis_pys_default_pool_waits_for_connections_instead_of_failing(
    transactional_db, tmp_path: Path
):
    alice = UserFactory(email="alice@example.com")
    token = api_token_create(owner=alice, name="burst").secret
    port = free_port()
    env = child_env(f"weft-test-{uuid.uuid4().hex[:10]}")
    server = start_web(env, port=port, log=tmp_path / "gunicorn.log", workers=1)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health")
        statuses = _hammer(f"http://127.0.0.1:{port}/api/workflows", token, clients=BURST)
    finally:
        kill_group(server, signal.SIGTERM)

    log = (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]
    assert set(statuses) == {200}, (statuses, log)
