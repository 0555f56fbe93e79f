"""Canvas ergonomics at 1440x900 and 390x844: Ctrl+K finds a node, Tab and a double-click on empty canvas add
one through the picker, F zooms to the selection, a selection aligns from its menu, and menus show their
shortcuts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, import_example, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def zoom(page) -> float:
    return page.locator(".canvas__world").evaluate("el => new DOMMatrix(el.style.transform).a")


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_find_quick_add_and_zoom_to_selection(page, site, tmp_path, artifacts, size, viewport):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)  # Text -> Prompt -> LLM -> Debug

    page.locator("#canvas").focus()
    page.keyboard.press("Control+k")
    finder = page.get_by_role("dialog", name="Find a node")
    finder.get_by_role("searchbox").fill("llm")
    expect(finder.locator(".picker__item")).to_have_count(1)
    page.screenshot(path=str(artifacts / f"find-node-{size}.png"))
    page.keyboard.press("Enter")
    expect(node(page, "llm-1")).to_have_attribute("aria-selected", "true")
    expect(node(page, "llm-1")).to_be_in_viewport()

    # F zooms to the selection: one node fills more of the view than the whole graph did.
    page.locator("#zoom-fit").click()
    whole = zoom(page)
    select_node(page, "llm-1")
    page.locator("#canvas").focus()
    page.keyboard.press("f")
    assert zoom(page) > whole

    # Tab on the canvas: the node picker; its choice lands on the canvas.
    page.locator("#canvas").focus()
    page.keyboard.press("Tab")
    picker = page.get_by_role("dialog", name="Add a node")
    picker.get_by_role("searchbox").fill("debug")
    page.keyboard.press("Enter")
    expect(page.locator(".canvas .node")).to_have_count(5)

    # A double-click on empty canvas opens the picker there too.
    box = page.locator("#canvas").bounding_box()
    page.mouse.dblclick(box["x"] + 30, box["y"] + box["height"] - 120)
    expect(page.get_by_role("dialog", name="Add a node")).to_be_visible()
    page.keyboard.press("Escape")


def test_a_selection_aligns_from_its_menu_which_shows_shortcuts(page, site, tmp_path, artifacts):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    page.locator("#canvas").focus()
    page.keyboard.press("Control+a")
    node(page, "prompt-1").locator(".node__title").click(button="right")

    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem", name="Copy")).to_have_attribute("aria-keyshortcuts", "Control+C")
    expect(menu.get_by_role("menuitem", name="Copy").locator("kbd")).to_have_text("Ctrl+C")
    page.screenshot(path=str(artifacts / "selection-menu.png"))
    menu.get_by_role("menuitem", name="Align left edges").click()

    lefts = {
        round(node(page, node_id).bounding_box()["x"])
        for node_id in ["text-1", "prompt-1", "llm-1", "debug-1"]
    }
    assert len(lefts) == 1
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    page.keyboard.press("Control+z")
    expect(page.locator("#save-state")).not_to_have_text("Unsaved changes")


def test_snap_to_grid_puts_a_dragged_node_on_the_grid(page, site, tmp_path):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    page.locator("#canvas").focus()
    page.keyboard.press("g")
    expect(page.locator("#canvas-message")).to_contain_text("Snap to grid is on")

    box = node(page, "llm-1").locator(".node__header").bounding_box()
    start = (box["x"] + 20, box["y"] + 10)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 37, start[1] + 53, steps=5)
    page.mouse.up()

    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    x, y = node(page, "llm-1").evaluate(
        "(el) => { const m = new DOMMatrix(getComputedStyle(el).transform); return [m.e, m.f]; }"
    )
    assert x % 24 == 0
    assert y % 24 == 0
