"""Two web processes behind a round-robin balancer, as two gunicorn workers are: each is Weft's ASGI
application with an MCP application of its own (its own session manager), sharing the database and the
cache. A session opened on one keeps working when its next requests land on the other: listing, calls with
progress, the list-changed notice, a cancellation; an unknown session id is still a 404 there."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio
import httpx2
import pytest
from django.core.cache import cache
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcp_server.services import workflow_tool_set
from runs.models import RunStatus, WorkflowRun
from tests.factories import WorkflowFactory
from tests.graphs import llm_callee
from tests.mcp_server.helpers import RoundRobin, list_call_and_see_a_publish, live_asgi_site
from tests.waiting import wait_for
from workflows.services import workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_sites(worker) -> Iterator[list[str]]:
    with live_asgi_site() as first, live_asgi_site() as second:
        yield [first, second]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_a_session_opened_on_one_process_is_served_by_the_other(two_sites, alice, alice_token):
    balancer = RoundRobin([_port(site) for site in two_sites])
    seen = list_call_and_see_a_publish(
        owner=alice, token=alice_token, url=f"{two_sites[0]}/mcp", balancer=balancer, notice_timeout_s=10
    )

    assert seen.first == ["write_about"]
    assert seen.called.is_error is False
    assert seen.called.structured_content == {"answer": "Write about otters", "style": "plain", "photo": None}
    assert seen.progress
    assert seen.second == ["later", "write_about"]
    assert all(count >= 2 for count in balancer.served.values())
    # The client's DELETE on leaving, wherever it landed, took the session out of the registry.
    assert balancer.session_id
    assert cache.get(f"mcp-session:{balancer.session_id}") is None


class CancelsElsewhere(httpx2.AsyncHTTPTransport):
    """Sends every request to the first process except a `notifications/cancelled`, sent to `port`."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if b"notifications/cancelled" in request.content:
            request.url = request.url.copy_with(port=self.port)
            request.headers["Host"] = f"{request.url.host}:{self.port}"
        return await super().handle_async_request(request)


def test_a_cancellation_landing_on_the_other_process_cancels_the_run(
    two_sites, alice, alice_token, llm_settings
):
    workflow = WorkflowFactory(owner=alice, name="ask_model", **llm_callee())
    workflow_publish(workflow=workflow)
    workflow_tool_set(workflow=workflow, enabled=True, name="ask_model", description="Asks.")
    llm_settings.fail_next("gemini", status="hang")

    async def call_then_cancel() -> None:
        headers = {"Authorization": f"Bearer {alice_token}"}
        elsewhere = CancelsElsewhere(_port(two_sites[1]))
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30, transport=elsewhere) as http,
            streamable_http_client(f"{two_sites[0]}/mcp", http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
            anyio.create_task_group() as group,
        ):
            await session.initialize()
            group.start_soon(session.call_tool, "ask_model", {"item": "hi"})
            await anyio.to_thread.run_sync(lambda: wait_for(lambda: llm_settings.hanging == 1))
            group.cancel_scope.cancel()

    asyncio.run(call_then_cancel())

    run = WorkflowRun.objects.get()
    wait_for(lambda: run.refresh_from_db() or run.status == RunStatus.CANCELLED)


def test_an_unknown_session_id_is_still_not_found_on_either_process(two_sites, alice_token):
    headers = {
        "Authorization": f"Bearer {alice_token}",
        "Mcp-Session-Id": "0123456789abcdef",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}

    answers = [httpx2.post(f"{site}/mcp", headers=headers, json=ping, timeout=10) for site in two_sites]

    assert [answer.status_code for answer in answers] == [404, 404]
