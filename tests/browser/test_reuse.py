"""End to end in Chromium: the plan before a run, reused nodes after it, the pin toggle, the usage page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import node, select_node, sign_up, write_graph_file

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def status(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bstatus-{name}\b")


def test_plan_badges_reused_nodes_pin_and_usage(page, site, llm, worker, artifacts, tmp_path):
    sign_up(page, site)
    page.locator("#import-file").set_input_files(write_graph_file(tmp_path, "Owls"))
    page.get_by_role("link", name="Open").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    # Nothing has run yet: the plan runs everything, one LLM call.
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-summary")).to_have_text("4 to run, 0 reused · 1 LLM call")
    expect(node(page, "llm-1").locator(".node__status")).to_have_text("will run")

    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "debug-1")).to_have_class(status("succeeded"), timeout=20_000)
    assert len(llm.requests) == 1

    # At temperature 0.7 the LLM would be asked again, and what follows it with it.
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-summary")).to_have_text("2 to run, 2 reused · 1 LLM call")
    expect(node(page, "text-1")).to_have_class(status("reuse"))
    expect(node(page, "llm-1")).to_have_class(status("will-run"))

    # Pinned ("Reuse last result"), it is not; an edit drops the plan from the canvas.
    select_node(page, "llm-1")
    page.get_by_label("Reuse last result").check()
    expect(page.locator("#run-banner")).to_be_hidden()
    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#plan-summary")).to_have_text("0 to run, 4 reused · 0 LLM calls")
    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator("#run-banner")).to_contain_text("4 reused", timeout=20_000)
    expect(node(page, "llm-1")).to_have_class(status("reused"))
    assert len(llm.requests) == 1
    page.screenshot(path=str(artifacts / "editor-reused-run.png"))

    # The run page links each reused node to the run it came from.
    page.locator("#run-banner").get_by_role("link", name="Open run page").click()
    expect(page.locator('#node-rows tr[data-node="llm-1"]')).to_contain_text("reused from run")

    # The usage page: one call today, as a row and a bar.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#usage-rows tr")).to_have_count(1)
    expect(page.locator("#usage-total")).to_contain_text("1")
    expect(page.locator("#usage-chart rect")).to_have_count(1)
    page.get_by_label("Per", exact=True).select_option("model")
    expect(page.locator("#usage-rows")).to_contain_text("gemini/")
    page.screenshot(path=str(artifacts / "usage-page.png"), full_page=True)
