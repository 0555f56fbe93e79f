"""End to end in Chromium: reopening the editor shows the latest run of the version being edited (issue 29,
point 3): statuses, result previews and the Output tab, as before the reload; a newer version starts clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import import_example, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NODES = ["text-1", "prompt-1", "llm-1", "debug-1"]
SUCCEEDED = re.compile(r"\bstatus-succeeded\b")


def test_reopening_the_editor_shows_the_last_run_of_its_version(page, site, llm, worker, tmp_path, artifacts):
    sign_up(page, site)
    url = import_example(page, site, tmp_path)
    page.get_by_role("button", name="▶ Run").click()
    for node_id in NODES:
        expect(node(page, node_id)).to_have_class(SUCCEEDED, timeout=20_000)

    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    for node_id in NODES:
        expect(node(page, node_id)).to_have_class(SUCCEEDED)
    expect(node(page, "llm-1").locator(".node__output")).to_contain_text("echo: Tell me about owls")
    expect(page.locator("#run-banner")).to_be_visible()
    select_node(page, "llm-1")
    page.get_by_role("tab", name="Output").click()
    expect(page.locator("#node-output .badge")).to_have_text("succeeded")
    page.screenshot(path=str(artifacts / "editor-reopened-last-run.png"))

    # A new version has no run yet: reopened, it shows none.
    page.get_by_role("tab", name="Settings").click()
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("bats")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_role("tab", name="Runs").click()
    expect(page.locator("#run-history .run-item")).to_have_count(1)
    expect(node(page, "llm-1")).not_to_have_class(re.compile(r"\bstatus-"))
    expect(page.locator("#run-banner")).to_be_hidden()
