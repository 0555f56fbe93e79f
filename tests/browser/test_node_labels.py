"""End to end in Chromium: nodes are named as people read them (issue 29, point 4). A new node stores its
label ("Text 2"); a graph saved without labels is named the same way on the run page (table, timeline,
logs, skip reasons); ids stay in the API's paths."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests import graphs
from tests.browser.helpers import drop_kind, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


SPAM_RULE = {"operator": "equals", "value": "spam"}
NAMED = re.compile(r"(Text|Condition|Debug) \d")


def unlabelled_branch(folder) -> object:
    """Text ("ham") -> Condition (equals "spam") -> Debug on true, Debug on false; no node has a label."""
    nodes = [
        graphs.node("text-1", "text", position=(0, 0), text="ham"),
        graphs.node("condition-1", "condition", position=(300, 0), rules=[SPAM_RULE]),
        graphs.node("debug-1", "debug", position=(600, -120)),
        graphs.node("debug-2", "debug", position=(600, 160)),
    ]
    edges = [
        graphs.edge("text-1", "condition-1", "text", "value"),
        graphs.edge("condition-1", "debug-1", "true", "value"),
        graphs.edge("condition-1", "debug-2", "false", "value"),
    ]
    path = folder / "branch.json"
    export = {"weft": 1, "name": "Branch", "description": "", "nodes": nodes, "edges": edges}
    path.write_text(json.dumps(export))
    return path


def test_labels_name_nodes_in_the_editor_and_on_the_run_page(page, site, worker, tmp_path, artifacts):
    sign_up(page, site)
    page.locator("#import-file").set_input_files(unlabelled_branch(tmp_path))
    page.get_by_role("link", name="Open").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(node(page, "condition-1").locator(".node__title")).to_have_text("Condition 1")

    # A node created in the editor stores the name it shows.
    drop_kind(page, "text", 80, 420)
    select_node(page, "text-2")
    expect(page.locator("#field-text-2-label")).to_have_value("Text 2")
    page.keyboard.press("Delete")
    expect(page.locator(".canvas .node")).to_have_count(4)

    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator("#run-banner .badge")).to_have_text("succeeded", timeout=20_000)
    skipped = node(page, "debug-1").locator(".node__skip")
    expect(skipped).to_have_attribute("title", re.compile(r"of 'Condition 1' was not taken"))

    page.get_by_role("link", name="Open run page").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    rows = page.locator("#node-rows tr")
    expect(rows).to_have_count(4)
    names = page.locator("#node-rows th .clip:first-child").all_inner_texts()
    assert sorted(names) == ["Condition 1", "Debug 1", "Debug 2", "Text 1"]
    skipped_row = page.locator('#node-rows tr[data-node="debug-1"]')
    expect(skipped_row).to_contain_text("of 'Condition 1' was not taken")
    expect(page.locator(".timeline__label").first).to_have_text(NAMED)
    log_nodes = page.locator(".log__node").all_inner_texts()
    assert log_nodes
    assert all(NAMED.fullmatch(name) for name in log_nodes), log_nodes
    page.screenshot(path=str(artifacts / "run-page-node-labels.png"), full_page=True)
