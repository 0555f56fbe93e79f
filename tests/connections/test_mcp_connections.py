"""MCP connections in use, against an MCP server written with the official SDK on loopback: the tools
endpoint (cached, refreshed, owner only), the SSRF rule (MCP_ALLOWED_NETWORKS) and MCP Tool nodes in runs,
the same server served with the legacy HTTP+SSE transport included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connections.models import Connection
from connections.services import ConnectionInvalid, connection_create
from runs.models import NodeResult, RunStatus
from runs.services import run_start
from tests.fakes.mcp_servers import outside_mcp_url, outside_sse_url
from tests.graphs import edge, graph, node
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outside(settings) -> Iterator[str]:
    settings.MCP_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with outside_mcp_url() as url:
        yield url


def _connection(owner, url: str) -> Connection:
    return connection_create(
        owner=owner, name="Weather", slug="weather", kind="mcp", base_url=url, secret="Bearer s3cret"
    )


def test_the_tools_endpoint_lists_the_servers_tools_for_the_owner_only(
    alice, alice_client, bob_client, outside
):
    connection = _connection(alice, outside)
    url = f"/api/connections/{connection.id}/tools"

    listed = alice_client.get(url)
    refreshed = alice_client.get(f"{url}?refresh=true")

    assert listed.status_code == refreshed.status_code == 200
    tools = {tool["name"]: tool for tool in listed.json()["tools"]}
    assert tools["forecast"]["inputSchema"]["required"] == ["city"]
    assert tools["forecast"]["annotations"] == {"readOnlyHint": True}
    assert refreshed.json() == listed.json()
    assert bob_client.get(url).status_code == 404


def test_a_loopback_server_is_refused_unless_mcp_allowed_networks_lists_it(alice, settings):
    settings.MCP_ALLOWED_NETWORKS = []
    with outside_mcp_url() as url, pytest.raises(ConnectionInvalid) as refused:
        _connection(alice, url)

    assert "(not in MCP_ALLOWED_NETWORKS)" in refused.value.message


def _run_tool(owner, tool: str, arguments: dict) -> NodeResult:
    nodes = [
        node("city", "text", text="Oslo"),
        node("m", "mcp_tool", connection="weather", tool=tool, arguments=arguments),
    ]
    started = run_start(owner=owner, graph=graph(nodes, [edge("city", "m", "text", "city")]))
    run = started.run
    wait_for(lambda: run.refresh_from_db() or run.is_finished, timeout=30)
    return NodeResult.objects.get(run=run, node_id="m")


def test_an_mcp_tool_node_calls_the_servers_tool_with_its_inputs(alice, outside, worker):
    _connection(alice, outside)

    result = _run_tool(alice, "forecast", {"city": "{{city}}", "days": 3})

    assert result.status == "succeeded"
    assert result.output["result"] == {"city": "Oslo", "days": 3, "sky": "clear"}
    assert "s3cret" not in str(result.output)


def test_a_tools_error_fails_the_node_as_tool_error(alice, outside, worker):
    _connection(alice, outside)

    result = _run_tool(alice, "broken", {"city": "{{city}}"})

    assert (result.status, result.error_kind) == ("failed", "tool_error")
    assert result.run.status == RunStatus.FAILED


def test_a_legacy_sse_servers_tools_are_listed_and_called_by_a_node(alice, alice_client, settings, worker):
    settings.MCP_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with outside_sse_url() as url:
        connection = _connection(alice, url)

        listed = alice_client.get(f"/api/connections/{connection.id}/tools")
        result = _run_tool(alice, "forecast", {"city": "{{city}}"})

    assert listed.status_code == 200
    assert "forecast" in {tool["name"] for tool in listed.json()["tools"]}
    assert result.status == "succeeded"
    assert result.output["result"] == {"city": "Oslo", "days": 1, "sky": "clear"}
