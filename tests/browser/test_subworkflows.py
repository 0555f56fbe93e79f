"""End to end in Chromium: a Sub-workflow and a Map node calling a published workflow, picked in the editor's
workflow select (their ports follow at once), saved, run, their results and the links to the child runs."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.helpers import connect, create_workflow, drop_kind, node, select_node, sign_up
from tests.graphs import edge, graph
from tests.graphs import node as graph_node
from workflows.services import workflow_create, workflow_delete, workflow_publish, workflow_update

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def topic_writer_graph() -> dict[str, list]:
    """Input `topic` -> Prompt "About {{topic}}" -> Output `answer`."""
    return graph(
        [
            graph_node("input-1", "input", name="topic", type="text"),
            graph_node("prompt-1", "prompt", template="About {{topic}}"),
            graph_node("output-1", "output", name="answer"),
        ],
        [edge("input-1", "prompt-1", "value", "topic"), edge("prompt-1", "output-1", "text", "value")],
    )


def new_workflow(page, site: str, name: str) -> str:
    """A new empty workflow from the workflows page (which lists the callees made beforehand)."""
    page.goto(f"{site}/workflows/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return create_workflow(page, name)


def place(page, layout: list[tuple[str, int, int]]) -> None:
    for kind, x, y in layout:
        page.locator(f'.palette__item[data-kind="{kind}"]').scroll_into_view_if_needed()
        drop_kind(page, kind, x, y)
    expect(page.locator(".canvas .node")).to_have_count(len(layout))


def save(page, version: int) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(f"Saved · version {version}")


def run_and_wait(page) -> None:
    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator(".toast--success", has_text="Run succeeded")).to_be_visible(timeout=20_000)


def summary(page, node_id: str):
    return node(page, node_id).locator(".node__summary-text")


def ports(page, node_id: str, side: str):
    return node(page, node_id).locator(f".port--{side}")


def test_a_subworkflow_picked_in_the_editor_runs_its_callee_and_links_its_child_run(
    page, site, worker, artifacts
):
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    writer = workflow_create(owner=alice, name="Topic writer", **topic_writer_graph())
    workflow_publish(workflow=writer)
    workflow_create(owner=alice, name="Draft writer", **topic_writer_graph())
    caller_id = new_workflow(page, site, "Caller")

    place(page, [("text", 20, 40), ("subworkflow", 300, 40), ("debug", 580, 40)])
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("owls")

    # Nothing picked yet: no ports, and the node says what it needs.
    select_node(page, "subworkflow-1")
    expect(ports(page, "subworkflow-1", "in")).to_have_count(0)
    expect(node(page, "subworkflow-1").locator(".node__error")).to_contain_text("choose the workflow to run")
    picker = page.locator("#field-subworkflow-1-workflowId")
    # The other workflows by name; not the one being edited.
    expect(picker.locator("option")).to_have_text(["Choose a workflow…", "Draft writer", "Topic writer"])
    assert caller_id not in picker.inner_html()

    # An unpublished workflow with "Published version" cannot run: said on the node until a version is chosen.
    picker.select_option(label="Draft writer")
    expect(node(page, "subworkflow-1").locator(".node__error")).to_contain_text(
        "'Draft writer' is not published: publish it or choose a version"
    )
    version = page.locator("#field-subworkflow-1-version")
    expect(version.locator("option")).to_have_text(["Published version (none yet)", "Version 1"])
    version.select_option(label="Version 1")
    expect(node(page, "subworkflow-1").locator(".node__error")).to_have_text(
        'input "topic" needs a connection'
    )
    expect(summary(page, "subworkflow-1")).to_have_text("Calls “Draft writer” (v1)")

    # The published one: its ports appear at once, before any save.
    picker.select_option(label="Topic writer")
    expect(version).to_have_value("0")  # a new workflow starts at its published version
    expect(version.locator("option").first).to_have_text("Published version (v1)")
    expect(ports(page, "subworkflow-1", "in")).to_have_count(1)
    expect(ports(page, "subworkflow-1", "in").first).to_have_attribute("data-port", "topic")
    expect(ports(page, "subworkflow-1", "out").first).to_have_attribute("data-port", "answer")
    expect(summary(page, "subworkflow-1")).to_have_text("Calls “Topic writer” (published, v1)")
    expect(node(page, "subworkflow-1").get_by_role("link", name="Open ↗")).to_have_attribute(
        "href", f"/workflows/{writer.pk}/"
    )
    connect(page, "text-1", "text", "subworkflow-1", "topic")
    connect(page, "subworkflow-1", "answer", "debug-1", "value")
    expect(page.locator(".edge")).to_have_count(2)
    expect(node(page, "subworkflow-1")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    page.screenshot(path=str(artifacts / "subworkflow-picked.png"))

    # Saved as the server resolved it: nothing left unsaved, and the same after a reload.
    save(page, 2)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")
    expect(ports(page, "subworkflow-1", "in").first).to_have_attribute("data-port", "topic")
    select_node(page, "subworkflow-1")
    expect(page.locator("#field-subworkflow-1-workflowId")).to_contain_text("Topic writer")
    expect(page.locator("#field-subworkflow-1-workflowId option:checked")).to_have_text("Topic writer")

    run_and_wait(page)
    expect(node(page, "debug-1").locator(".node__output")).to_contain_text("About owls")

    # The Output tab links the child run; its page names the parent run and node.
    page.get_by_role("tab", name="Output").click()
    child = page.locator("#node-output .child-run")
    expect(child).to_have_count(1)
    expect(child.locator(".badge")).to_have_text("succeeded")
    page.screenshot(path=str(artifacts / "subworkflow-output-tab.png"))
    child_href = child.get_attribute("href")
    page.locator("#run-banner").get_by_role("link", name="Open run page").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    row = page.locator('#node-rows tr[data-node="subworkflow-1"]')
    expect(row.locator(".child-run")).to_have_attribute("href", child_href)
    expect(page.locator("#child-runs li")).to_have_count(1)
    page.screenshot(path=str(artifacts / "subworkflow-run-page.png"), full_page=True)
    row.locator(".child-run").click()
    expect(page).to_have_url(re.compile(re.escape(child_href) + "$"))
    expect(page.locator("#run-parent")).to_contain_text("Started by node subworkflow-1 of run")
    expect(page.locator('#node-rows tr[data-node="prompt-1"]')).to_contain_text("About owls")

    # The callee published again with another output: the caller's node takes the new ports when opened.
    two_outputs = topic_writer_graph()
    two_outputs["nodes"].append(graph_node("output-2", "output", name="prompt"))
    two_outputs["edges"].append(edge("prompt-1", "output-2", "text", "value"))
    writer.refresh_from_db()
    writer = workflow_update(
        workflow=writer,
        name=writer.name,
        description="",
        expected_version=writer.version,
        saved_by=alice,
        **two_outputs,
    )
    workflow_publish(workflow=writer)
    page.goto(f"{site}/workflows/{caller_id}/")
    expect(page.locator("#canvas-message")).to_contain_text(
        "Published again since this was saved: Topic writer"
    )
    expect(ports(page, "subworkflow-1", "out")).to_have_count(2)
    expect(summary(page, "subworkflow-1")).to_have_text("Calls “Topic writer” (published, v2)")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    expect(page.locator(".edge")).to_have_count(2)
    save(page, 3)


def test_a_map_over_a_text_s_lines_gives_the_callee_s_results_in_item_order(page, site, worker, artifacts):
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    writer = workflow_create(owner=alice, name="Topic writer", **topic_writer_graph())
    workflow_publish(workflow=writer)
    new_workflow(page, site, "Mapper")

    place(page, [("text", 20, 140), ("map", 300, 140), ("debug", 580, 140)])
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("a\nb\nc")
    select_node(page, "map-1")
    expect(ports(page, "map-1", "in")).to_have_count(1)
    page.locator("#field-map-1-workflowId").select_option(label="Topic writer")
    # `items` feeds the callee's single required input, so `topic` is no port of its own.
    expect(page.locator("#field-map-1-itemInput option:checked")).to_have_text("Automatic (topic)")
    expect(ports(page, "map-1", "in")).to_have_count(1)
    expect(ports(page, "map-1", "in").first).to_have_attribute("data-port", "items")
    expect(summary(page, "map-1")).to_have_text("Maps “Topic writer” (published, v1) · 4 at once")
    # Choosing the item input by name shows the rule's answer the same way.
    page.locator("#field-map-1-itemInput").select_option(label="topic")
    expect(ports(page, "map-1", "in")).to_have_count(1)
    connect(page, "text-1", "text", "map-1", "items")
    connect(page, "map-1", "results", "debug-1", "value")
    expect(node(page, "map-1")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    save(page, 2)

    run_and_wait(page)
    page.screenshot(path=str(artifacts / "map-run.png"))
    select_node(page, "debug-1")
    page.get_by_role("tab", name="Output").click()
    output = page.locator("#node-output .port-value", has_text="value").locator("pre").first
    expect(output).to_contain_text("About c")
    results = json.loads(output.inner_text())
    assert results == [{"answer": "About a"}, {"answer": "About b"}, {"answer": "About c"}]
    select_node(page, "map-1")
    expect(page.locator("#node-output .child-run")).to_have_count(3)
    expect(page.locator("#node-output h3", has_text="Child runs (3)")).to_be_visible()
    page.screenshot(path=str(artifacts / "map-output-tab.png"))

    # The called workflow deleted: the node says so, and the select names what it called.
    workflow_delete(workflow=writer)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(node(page, "map-1").locator(".node__error")).to_contain_text(
        "the called workflow no longer exists (deleted?): choose another"
    )
    select_node(page, "map-1")
    page.get_by_role("tab", name="Settings").click()
    expect(page.locator("#field-map-1-workflowId option:checked")).to_have_text("Topic writer (not found)")
    page.screenshot(path=str(artifacts / "map-callee-deleted.png"))
