"""In Chromium: the editor's API tab offers a published workflow as an MCP tool (switch, name, description)
and shows the client configuration for /mcp."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from accounts.models import User
from mcp_server.models import WorkflowTool
from tests.browser.helpers import sign_up
from tests.factories import WorkflowFactory
from tests.graphs import callable_graph
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
