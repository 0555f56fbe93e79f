"""End to end in Chromium: an Agent with a workflow tool built in the editor, run, its tool call shown as a
step while the model still thinks, then its transcript as steps in the Output tab and on the run page,
linking the child run; a tool built in its card whose calls need approval, waiting as a step, approved on
the run page."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.helpers import create_workflow, drop_kind, select_node, sign_up
from tests.graphs import callable_graph
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_publish

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _agent_asking_to_write(page, site, name: str) -> Workflow:
    """Alice signed up, her published "Writer" workflow, and a new workflow `name` open in the editor with an
    Agent (agent-1, selected) whose prompt makes the fake model call a tool `write`; returns Writer."""
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    writer = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    page.goto(f"{site}/workflows/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    create_workflow(page, name)
    page.locator('.palette__item[data-kind="agent"]').scroll_into_view_if_needed()
    drop_kind(page, "agent", 200, 60)
    select_node(page, "agent-1")
    page.locator("#field-agent-1-prompt").fill('Write about otters [[call write {"topic": "otters"}]]')
    return writer


def test_an_agent_with_a_workflow_tool_runs_and_shows_its_steps(page, site, worker, llm, artifacts) -> None:
    writer = _agent_asking_to_write(page, site, "Agent")
    tool = {
        "name": "write",
        "description": "Writes about a topic",
        "type": "workflow",
        "workflowId": str(writer.pk),
    }
    tools = page.locator("#field-agent-1-tools")
    tools.fill(json.dumps([tool]))
    tools.blur()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(re.compile(r"Saved · version \d+"))

    # Each model call takes a while: the tool's step shows before the agent's answer does.
    llm.latency_s = 1.5
    page.get_by_role("tab", name="Output").click()
    page.get_by_role("button", name="▶ Run").click()
    live = page.locator("#node-output .step--tool")
    expect(live).to_be_visible(timeout=15_000)
    expect(live).to_contain_text("Tool write")
    page.screenshot(path=str(artifacts / "agent-steps-live.png"))
    expect(page.locator(".toast--success", has_text="Run succeeded")).to_be_visible(timeout=20_000)

    steps = page.locator("#node-output .steps > li")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_contain_text("Write about otters")
    child_link = page.locator("#node-output .step__child")
    expect(child_link).to_have_attribute("href", re.compile(r"^/runs/[0-9a-f-]{36}/$"))
    page.screenshot(path=str(artifacts / "agent-steps-output-tab.png"))

    page.locator("#run-banner").get_by_role("link", name="Open run page").click()
    row = page.locator('#node-rows tr[data-node="agent-1"]')
    expect(row.locator(".steps > li")).to_have_count(3)
    expect(row.locator(".step__child")).to_have_count(1)


def test_an_agent_s_tool_is_built_in_its_card_and_a_call_needing_approval_shows_as_waiting(
    page, site, worker, llm, artifacts
) -> None:
    writer = _agent_asking_to_write(page, site, "Agent with approval")

    page.get_by_role("button", name="Add tool").click()
    page.locator("#field-agent-1-tools-0-name").fill("write")
    page.locator("#field-agent-1-tools-0-name").blur()
    page.locator("#field-agent-1-tools-0-type").select_option(label="Code")
    expect(page.locator(".agent-tool__borrowed")).to_contain_text("written in the JSON below")
    page.locator("#field-agent-1-tools-0-type").select_option(label="Workflow")
    page.locator("#field-agent-1-tools-0-workflow").select_option(label="Writer")
    page.locator("#field-agent-1-tools-0-approval").check()
    page.locator(".agent-tools-field").screenshot(path=str(artifacts / "agent-tool-card.png"))

    stored = json.loads(page.locator("#field-agent-1-tools").input_value())
    assert stored == [
        {
            "name": "write",
            "description": "",
            "type": "workflow",
            "workflowId": str(writer.pk),
            "version": None,
            "requiresApproval": True,
        }
    ]
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(re.compile(r"Saved · version \d+"))

    page.get_by_role("tab", name="Output").click()
    page.get_by_role("button", name="▶ Run").click()
    waiting = page.locator("#node-output .step--approval")
    expect(waiting).to_contain_text("waiting for approval", timeout=20_000)
    expect(waiting).to_contain_text("otters")
    page.screenshot(path=str(artifacts / "agent-tool-waiting.png"))

    # The run page asks for the call under the agent's name; approved there, the run goes on to its end.
    page.locator("#run-banner").get_by_role("link", name="Open run page").click()
    expect(page.locator("body")).to_have_attribute("data-status", "waiting")
    approvals = page.locator("#approvals")
    expect(approvals).to_contain_text("Agent 1 · call_1")
    expect(approvals).to_contain_text("wants to call the tool write")
    approvals.get_by_role("button", name="Approve").click()
    expect(page.locator("body")).to_have_attribute("data-status", "succeeded", timeout=20_000)
    row = page.locator('#node-rows tr[data-node="agent-1"]')
    expect(row.locator(".steps > li")).to_have_count(4)  # model, approval, tool, model
    expect(row.locator(".step--approval")).to_contain_text("approved by alice@example.com")
    expect(row.locator(".step__child")).to_have_count(1)
    page.screenshot(path=str(artifacts / "agent-tool-approved.png"), full_page=True)
