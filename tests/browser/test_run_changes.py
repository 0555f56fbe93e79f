"""End to end in Chromium: Run changes (issue 29, point 5) runs only what changed since the last run and what
follows it, reusing the rest whatever its temperature; the plan shows it, the banner and the runs list count
"2 ran, 3 reused", and reused nodes show no tokens or cost."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests import graphs
from tests.browser.helpers import node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def llm_then_prompt(folder) -> object:
    """Text -> Prompt -> LLM (temperature 0.7, never reused by Run) -> Prompt -> Debug."""
    nodes = [
        graphs.node("text-1", "text", position=(0, 0), text="owls"),
        graphs.node("prompt-1", "prompt", position=(300, 0), template="Tell me about {{topic}}"),
        graphs.node("llm-1", "llm", position=(600, 0), temperature=0.7),
        graphs.node("prompt-2", "prompt", position=(900, 0), template="Summary: {{answer}}"),
        graphs.node("debug-1", "debug", position=(1200, 0)),
    ]
    edges = [
        graphs.edge("text-1", "prompt-1", "text", "topic"),
        graphs.edge("prompt-1", "llm-1", "text", "prompt"),
        graphs.edge("llm-1", "prompt-2", "text", "answer"),
        graphs.edge("prompt-2", "debug-1", "text", "value"),
    ]
    path = folder / "changes.json"
    path.write_text(json.dumps({"weft": 1, "name": "Changes", "nodes": nodes, "edges": edges}))
    return path


def test_run_changes_reuses_the_llm_above_an_edited_prompt(page, site, llm, worker, tmp_path, artifacts):
    sign_up(page, site)
    page.locator("#import-file").set_input_files(llm_then_prompt(tmp_path))
    page.get_by_role("link", name="Open").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator("#run-banner")).to_contain_text("5 ran", timeout=20_000)
    calls = len(llm.requests)
    assert calls == 1

    # Only the prompt under the model changes.
    select_node(page, "prompt-2")
    page.locator("#field-prompt-2-template").fill("In short: {{answer}}")
    page.get_by_role("button", name="Plan").click()
    # Run would call the model again.
    expect(page.locator("#plan-summary")).to_have_text("3 to run, 2 reused · 1 LLM call")
    page.get_by_role("button", name="Plan Run changes instead").click()
    expect(page.locator("#plan-summary")).to_have_text("2 to run, 3 reused · 0 LLM calls")
    expect(node(page, "llm-1")).to_have_class(re.compile(r"\bstatus-reuse\b"))

    page.get_by_role("button", name="Run changes").click()
    expect(page.locator("#run-banner .badge")).to_have_text("succeeded", timeout=20_000)
    expect(page.locator("#run-banner")).to_contain_text("2 ran, 3 reused")
    assert len(llm.requests) == calls  # the model was not called again
    expect(node(page, "llm-1")).to_have_class(re.compile(r"\bstatus-reused\b"))
    expect(node(page, "debug-1").locator(".node__output")).to_contain_text("In short: echo:")
    expect(node(page, "llm-1").locator(".node__result")).not_to_contain_text("tokens")
    page.screenshot(path=str(artifacts / "editor-run-changes.png"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page.locator("#run-rows tr").first).to_contain_text("2 ran, 3 reused")
    page.locator("#run-rows tr").first.get_by_role("link").first.click()
    reused = page.locator('#node-rows tr[data-node="llm-1"]')
    expect(reused).to_contain_text("reused from run")
    expect(reused).not_to_contain_text("0 in / 0 out")
    expect(reused).not_to_contain_text("$0")
