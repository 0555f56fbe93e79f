"""The node view at 1440x900 and on a 390x844 phone: double-click (or Enter on the selected node) shows
what it last received, its settings and what it produced; an input field dragged into a template inserts
its placeholder."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, import_example, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_node_view_shows_input_settings_and_output_side_by_side(
    page, site, tmp_path, llm, worker, artifacts
):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "debug-1")).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)

    node(page, "llm-1").locator(".node__title").dblclick()

    view = page.get_by_role("dialog")
    columns = [view.locator(f'[data-column="{name}"]') for name in ("input", "settings", "output")]
    for column in columns:
        expect(column).to_be_visible()
    boxes = [column.bounding_box() for column in columns]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"]  # side by side, left to right
    assert boxes[1]["x"] + boxes[1]["width"] <= boxes[2]["x"]
    expect(columns[0]).to_contain_text("Tell me about owls")
    expect(columns[1].locator("#field-llm-1-temperature")).to_be_visible()
    expect(columns[2]).to_contain_text("echo: Tell me about owls")
    page.screenshot(path=str(artifacts / "node-view-desktop.png"))
    view.get_by_role("button", name="Close").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.locator("#panel-settings #node-settings")).to_have_count(1)  # the form went back

    # Enter on the selected node opens it; an input field dragged into the template inserts its placeholder.
    select_node(page, "prompt-1")
    page.keyboard.press("Enter")
    template = page.locator("#field-prompt-1-template")
    expect(template).to_be_visible()
    template.evaluate("(area) => area.setSelectionRange(area.value.length, area.value.length)")
    page.get_by_role("dialog").locator('[data-column="input"] .nodeview__field', has_text="topic").drag_to(
        template
    )
    expect(template).to_have_value("Tell me about {{topic}}{{topic}}")
    page.keyboard.press("Escape")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")


def test_on_a_phone_the_node_view_shows_one_column_at_a_time(page, site, tmp_path, artifacts):
    page.set_viewport_size(PHONE)
    sign_up(page, site)
    import_example(page, site, tmp_path)

    node(page, "prompt-1").locator(".node__title").dblclick()

    view = page.get_by_role("dialog")
    expect(view.locator('[data-column="settings"]')).to_be_visible()
    expect(view.locator('[data-column="input"]')).to_be_hidden()
    view.get_by_role("button", name="Input", exact=True).click()
    expect(view.locator('[data-column="input"]')).to_be_visible()
    expect(view.locator('[data-column="input"]')).to_contain_text("topic")
    expect(view.locator('[data-column="settings"]')).to_be_hidden()
    box = view.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=str(artifacts / "node-view-phone.png"))
