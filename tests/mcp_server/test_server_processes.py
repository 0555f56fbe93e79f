"""Two real server processes (gunicorn with a uvicorn worker each, as two web workers are) on the test
database and Redis, with a Dramatiq worker process running the calls' runs, behind a round-robin balancer:
a session opened by one is served by both, through listing, a call with progress and the list-changed
notice."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

from accounts.services import api_token_create
from tests.mcp_server.helpers import RoundRobin, list_call_and_see_a_publish
from tests.runs.processes import child_env, free_port, kill_group, start, start_web, wait_http

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[int]]:
    """The ports of two server processes, and a worker process, in a private Dramatiq namespace."""
    if connection.vendor != "postgresql":
        pytest.skip("server processes need a shared database: set DATABASE_URL to PostgreSQL")
    namespace = f"weft-test-{uuid.uuid4().hex[:10]}"
    env = child_env(namespace)
    ports = [free_port(), free_port()]
    processes = [start_web(env, port=port, log=tmp_path / f"web-{port}.log") for port in ports]
    worker_args = ["manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
    processes.append(start(worker_args, env, tmp_path / "worker.log"))
    try:
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/api/health", timeout=60)
        yield ports
    finally:
        for process in processes:
            kill_group(process, signal.SIGTERM)
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        if keys := list(client.scan_iter(f"{namespace}*")):
            client.delete(*keys)


def test_a_session_is_served_by_both_server_processes(servers, alice):
    token = api_token_create(owner=alice, name="mcp").secret
    balancer = RoundRobin(servers)
    seen = list_call_and_see_a_publish(
        owner=alice,
        token=token,
        url=f"http://127.0.0.1:{servers[0]}/mcp",
        balancer=balancer,
        notice_timeout_s=15,
    )

    assert seen.first == ["write_about"]
    assert seen.called.structured_content == {"answer": "Write about otters", "style": "plain", "photo": None}
    assert seen.progress
    assert seen.second == ["later", "write_about"]
    assert all(count >= 2 for count in balancer.served.values())
