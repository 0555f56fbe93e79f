"""Weft's ASGI application served by uvicorn in a thread of the test process (so it shares the test
database), a session of the official MCP client against its /mcp, and a round-robin balancer over several
such servers."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import mcp_types as types
import uvicorn
from asgiref.sync import sync_to_async
from django.db import connections
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcp_server.asgi import McpRouter, mcp_application
from mcp_server.services import workflow_tool_set
from tests.factories import WorkflowFactory
from tests.graphs import callable_graph
from tests.waiting import wait_for
from workflows.services import workflow_publish


@contextmanager
def live_asgi_site() -> Iterator[str]:
    """The base URL of Weft's ASGI application (Django and /mcp, with its lifespan) on a free loopback port.

    A fresh MCP application each time: its session manager runs once per lifespan.
    """
    from workflowsite.asgi import django_application

    app = McpRouter(django=django_application, mcp=mcp_application())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # The handlers' database connections live in asgiref's one thread for sync code: close them there,
        # or the test database cannot be dropped.
        closing = sync_to_async(connections.close_all)()
        asyncio.run_coroutine_threadsafe(closing, server.servers[0].get_loop()).result(timeout=10)
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def mcp_session(url: str, token: str | None, **session_options: Any) -> AsyncIterator[ClientSession]:
    """An initialized client session on `url` with `Authorization: Bearer <token>` (none without a token)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as streams,
        ClientSession(streams[0], streams[1], **session_options) as session,
    ):
        await session.initialize()
        yield session


class RoundRobin(httpx2.AsyncHTTPTransport):
    """Sends each request to the next of `ports` in turn (the client names the first), counting where the
    session's requests went and remembering the session's id."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__()
        self.turns = itertools.cycle(ports)
        self.served: dict[int, int] = dict.fromkeys(ports, 0)
        self.session_id: str | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self.turns)
        self.served[port] += 1
        request.url = request.url.copy_with(port=port)
        request.headers["Host"] = f"{request.url.host}:{port}"
        response = await super().handle_async_request(request)
        self.session_id = response.headers.get("mcp-session-id", self.session_id)
        return response


@dataclass
class BalancedSession:
    """What a client saw through a balancer: the tools listed first, a call with its progress, and the tools
    listed after the list-changed notice for a workflow published meanwhile."""

    first: list[str]
    called: types.CallToolResult
    progress: list[float]
    second: list[str]


def list_call_and_see_a_publish(
    *, owner: Any, token: str, url: str, balancer: RoundRobin, notice_timeout_s: float
) -> BalancedSession:
    """Alice's `write_about` tool (published) and `later` (published while the session is open), used through
    one session whose requests `balancer` spreads over several servers."""
    workflow = WorkflowFactory(owner=owner, name="write_about", **callable_graph())
    workflow_publish(workflow=workflow)
    workflow_tool_set(workflow=workflow, enabled=True, name="write_about", description="Writes.")
    later = WorkflowFactory(owner=owner, name="later", **callable_graph())
    workflow_tool_set(workflow=later, enabled=True, name="later", description="Published later.")
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
            connections.close_all()

    async def used() -> BalancedSession:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30, transport=balancer) as http,
            streamable_http_client(url, http_client=http) as streams,
            ClientSession(streams[0], streams[1], message_handler=on_message) as session,
        ):
            await session.initialize()
            first = [tool.name for tool in (await session.list_tools()).tools]
            called = await session.call_tool(
                "write_about", {"topic": "otters"}, progress_callback=on_progress
            )
            await anyio.to_thread.run_sync(publish)
            with anyio.fail_after(notice_timeout_s):
                await changes.wait()
            second = [tool.name for tool in (await session.list_tools()).tools]
            return BalancedSession(first=first, called=called, progress=progress, second=second)

    return asyncio.run(used())
