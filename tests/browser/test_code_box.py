"""End to end in Chromium: a Code node's program typed into its code box (line numbers, Tab indents), run,
then broken: the run's error line is marked in the box."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import create_workflow, drop_kind, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("code_pool")]


def run_and_wait(page, ending: str) -> None:
    # The last run's toast would otherwise pass for this run's end.
    expect(page.locator(".toast")).to_have_count(0, timeout=15_000)
    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator(".toast", has_text=ending)).to_be_visible(timeout=60_000)


def test_code_typed_in_the_code_box_runs_and_a_failure_marks_its_line(page, site, worker):
    sign_up(page, site)
    create_workflow(page, "Shout")
    page.locator('.palette__item[data-kind="code"]').scroll_into_view_if_needed()
    drop_kind(page, "code", 200, 100)
    select_node(page, "code-1")
    # The most CODE_MAX_TIMEOUT_SECONDS allows: the sandbox's first start shares two cores with the rest
    # of the suite.
    page.locator("#field-code-1-timeoutSeconds").fill("30")

    box = page.locator("#field-code-1-code")
    gutter = page.locator('.field[data-field="code"] .code-box__number')
    box.fill("")
    box.press_sequentially("def main(inputs):")
    box.press("Enter")
    box.press("Tab")
    box.press_sequentially("return {'loud': 'HELLO'}")
    expect(box).to_have_value("def main(inputs):\n    return {'loud': 'HELLO'}")
    expect(box).to_be_focused()
    expect(gutter).to_have_text(["1", "2"])

    run_and_wait(page, "Run succeeded")
    expect(node(page, "code-1").locator(".node__output")).to_contain_text("HELLO")
    expect(page.locator(".code-box__number.is-marked")).to_have_count(0)

    select_node(page, "code-1")
    box.fill("def main(inputs):\n    x = 1\n    return x / 0\n")
    run_and_wait(page, "Run failed")
    expect(node(page, "code-1").locator(".node__output--error")).to_contain_text("ZeroDivisionError")
    expect(page.locator(".code-box__number.is-marked")).to_have_text("3")
    expect(box).to_have_class(re.compile(r"\bhas-failed-line\b"))
    expect(page.locator("#field-code-1-code-failed-line")).to_have_text("The last run failed at line 3.")
