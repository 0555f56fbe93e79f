"""Two real server processes (gunicorn with a uvicorn worker each, as two web workers are) on the test
database and Redis, with a Dramatiq worker process running the calls' runs, behind a round-robin balancer:
a session opened by one is served by both, through listing, a call with progress and the list-changed
notice."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
import pytest
import redis
from django.db import connection
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from accounts.services import api_token_create
from mcp_server.services import workflow_tool_set
from tests.factories import WorkflowFactory
from tests.graphs import callable_graph
from tests.mcp_server.helpers import RoundRobin
from tests.runs.processes import child_env, free_port, kill_group, start, start_web, wait_http
from workflows.services import workflow_publish

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
    workflow = WorkflowFactory(owner=alice, name="write_about", **callable_graph())
    workflow_publish(workflow=workflow)
    workflow_tool_set(workflow=workflow, enabled=True, name="write_about", description="Writes.")
    later = WorkflowFactory(owner=alice, name="later", **callable_graph())
    workflow_tool_set(workflow=later, enabled=True, name="later", description="Published later.")
    balancer = RoundRobin(servers)
    progress: list[float] = []
    changes = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changes.set()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    def publish() -> None:
        try:
            workflow_publish(workflow=later)
        finally:
            connection.close()

    async def used() -> tuple[list[str], types.CallToolResult, list[str]]:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30, transport=balancer) as http,
            streamable_http_client(f"http://127.0.0.1:{servers[0]}/mcp", http_client=http) as streams,
            ClientSession(streams[0], streams[1], message_handler=on_message) as session,
        ):
            await session.initialize()
            first = [tool.name for tool in (await session.list_tools()).tools]
            topic = {"topic": "otters"}
            called = await session.call_tool("write_about", topic, progress_callback=on_progress)
            await anyio.to_thread.run_sync(publish)
            with anyio.fail_after(15):
                await changes.wait()
            second = [tool.name for tool in (await session.list_tools()).tools]
            return first, called, second

    first, called, second = asyncio.run(used())

    assert first == ["write_about"]
    assert called.structured_content == {"answer": "Write about otters", "style": "plain", "photo": None}
    assert progress
    assert second == ["later", "write_about"]
    assert all(count >= 2 for count in balancer.served.values())
