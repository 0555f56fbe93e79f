"""/mcp speaks the protocol versions the official client negotiates: the handshake era (initialize) and the
2026-07-28 era (server/discover, each request self-contained)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx2
import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcp_server.services import workflow_tool_set
from tests.factories import WorkflowFactory
from tests.graphs import callable_graph
from tests.mcp_server.helpers import live_asgi_site
from workflows.services import workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(worker) -> Iterator[str]:
    with live_asgi_site() as base_url:
        yield f"{base_url}/mcp"


def test_a_client_of_the_2026_era_discovers_lists_and_calls(site, alice, alice_token):
    workflow = WorkflowFactory(owner=alice, name="write_about", **callable_graph())
    workflow_publish(workflow=workflow)
    workflow_tool_set(workflow=workflow, enabled=True, name="write_about", description="")

    async def discovered() -> tuple[types.DiscoverResult, types.ListToolsResult, types.CallToolResult]:
        headers = {"Authorization": f"Bearer {alice_token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(site, http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            found = await session.discover()
            session.adopt(found)
            listed = await session.list_tools()
            return found, listed, await session.call_tool("write_about", {"topic": "owls"})

    found, listed, called = asyncio.run(discovered())

    assert "2026-07-28" in found.supported_versions
    assert [tool.name for tool in listed.tools] == ["write_about"]
    assert called.structured_content["answer"] == "Write about owls"


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_the_handshake_agrees_on_the_version_the_client_asks_for(site, alice_token, version):
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    headers = {"Authorization": f"Bearer {alice_token}", "Accept": "application/json, text/event-stream"}

    response = httpx2.post(site, json=body, headers=headers)

    data = next(line for line in response.text.splitlines() if line.startswith("data:"))
    answer = types.JSONRPCResponse.model_validate_json(data.removeprefix("data:"))
    assert answer.result["protocolVersion"] == version
    assert answer.result["capabilities"]["tools"] == {"listChanged": True}
