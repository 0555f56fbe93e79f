"""In Chromium: the editor's API tab offers a published workflow as an MCP tool (switch, name, description)
and shows the client configuration for /mcp; an MCP Tool node offers its connection's tools and builds its
argument rows from the picked tool's inputSchema."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from accounts.models import User
from connections.services import connection_create
from mcp_server.models import WorkflowTool
from tests.browser.helpers import select_node, sign_up
from tests.factories import WorkflowFactory
from tests.fakes.mcp_servers import outside_mcp_url
from tests.graphs import callable_graph, graph, node
from workflows.services import workflow_publish

pytestmark = [pytest.mark.browser]


def test_the_api_tab_switches_the_mcp_tool_on_with_its_name(page, site):
    sign_up(page, site)
    graph = callable_graph()
    workflow = WorkflowFactory(
        owner=User.objects.get(email="alice@example.com"), name="Summarize topic", **graph
    )
    workflow_publish(workflow=workflow)
    page.goto(f"{site}/workflows/{workflow.id}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    page.get_by_role("tab", name="API").click()
    expect(page.locator("#api-mcp-name")).to_have_value("summarize_topic")
    expect(page.locator("#api-mcp-enabled")).not_to_be_checked()
    config = json.loads(page.locator("#api-mcp-config").inner_text())
    assert config["mcpServers"]["weft"]["url"] == f"{site}/mcp"
    page.locator("#api-mcp-enabled").check()
    page.locator("#api-mcp-name").fill("summarize")
    page.locator("#api-mcp-description").fill("Summarizes a topic.")
    page.locator("#api-mcp-save").click()

    expect(page.locator(".toast--success", has_text="Offered as the MCP tool summarize.")).to_be_visible()
    tool = WorkflowTool.objects.get(workflow=workflow)
    assert (tool.enabled, tool.name, tool.description) == (True, "summarize", "Summarizes a topic.")


def test_an_mcp_tool_node_picks_a_tool_and_builds_its_argument_rows_from_the_schema(page, site, settings):
    settings.MCP_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    with outside_mcp_url() as url:
        connection_create(owner=alice, name="Weather", slug="weather", kind="mcp", base_url=url)
        nodes = [
            node("tool-1", "mcp_tool", position=(60, 80), connection="", tool="", arguments={}),
            node("debug-1", "debug", position=(420, 80)),
        ]
        workflow = WorkflowFactory(owner=alice, **graph(nodes))
        page.goto(f"{site}/workflows/{workflow.id}/")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")

        select_node(page, "tool-1")
        page.locator("#field-tool-1-connection").select_option(label="Weather (weather)")
        tool = page.locator("#field-tool-1-tool")
        expect(tool.locator("option", has_text="forecast — The weather for a few days.")).to_have_count(1)
        with page.expect_response(lambda answer: answer.url.endswith("/tools?refresh=true")) as refreshed:
            page.get_by_role("button", name="Refresh tools").click()
        assert refreshed.value.ok
        page.locator("#field-tool-1-tool").select_option(label="forecast — The weather for a few days.")

        city = page.locator('.mcp-argument[data-argument="city"]')
        days = page.locator('.mcp-argument[data-argument="days"]')
        expect(city.locator(".mcp-argument__required")).to_have_count(1)
        expect(city.locator(".mcp-argument__type")).to_have_text("string")
        expect(city.locator(".field__help")).to_have_text("The city's English name.")
        expect(days.locator(".mcp-argument__required")).to_have_count(0)
        expect(days.locator(".mcp-argument__type")).to_have_text("integer")
        expect(days.locator("input")).to_have_attribute("placeholder", "default 1")
        city.locator("input").fill("{{town}}")
        days.locator("input").fill("3")
        expect(page.locator('.port--in[data-node="tool-1"][data-port="town"]')).to_have_count(1)
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#save-state")).to_have_text("Saved · version 2")

    workflow.refresh_from_db()
    data = next(saved for saved in workflow.nodes if saved["id"] == "tool-1")["data"]
    assert (data["connection"], data["tool"], data["reusable"]) == ("weather", "forecast", True)
    assert data["arguments"] == {"city": "{{town}}", "days": 3}
