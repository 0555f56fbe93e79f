"""Phones (390x844), and the same gestures at 1440x900: the editor's toolbar is one row with an overflow
menu, a tapped palette kind lands in free space connected to the selected node, ports are touch targets of
at least 24 px, and /usage/ does not scroll sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, import_example, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def rects_overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_phone_toolbar_is_one_row_with_the_rest_in_an_overflow_menu(page, site, tmp_path, artifacts):
    page.set_viewport_size(PHONE)
    sign_up(page, site)
    import_example(page, site, tmp_path)

    toolbar = page.locator(".editor__toolbar")
    visible = toolbar.locator(":scope > :visible")
    boxes = [box for box in (item.bounding_box() for item in visible.all()) if box]
    # One row: every control overlaps every other vertically.
    assert max(box["y"] for box in boxes) < min(box["y"] + box["height"] for box in boxes), boxes
    assert max(box["x"] + box["width"] for box in boxes) <= PHONE["width"]
    expect(page.get_by_role("button", name="▶ Run")).to_be_visible()
    expect(page.locator("#save")).to_be_hidden()
    page.get_by_role("button", name="More actions").click()
    menu = page.get_by_role("menu", name="More actions")
    expect(menu.get_by_role("menuitem", name="Save", exact=True)).to_be_enabled()
    expect(menu.get_by_role("menuitem", name="Saved · version 1")).to_be_disabled()
    page.screenshot(path=str(artifacts / "phone-toolbar-menu.png"))
    menu.get_by_role("menuitem", name="Arrange").click()
    expect(menu).to_have_count(0)

    page.set_viewport_size(DESKTOP)
    expect(page.locator("#save")).to_be_visible()
    expect(page.get_by_role("button", name="More actions")).to_be_hidden()


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_tapped_palette_kind_lands_in_free_space_connected_to_the_selected_node(
    page, site, tmp_path, artifacts, size, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)  # Text -> Prompt -> LLM -> Debug
    select_node(page, "llm-1")

    for _ in range(2):
        if viewport is PHONE:
            page.get_by_role("button", name="+ Nodes").click()
        page.locator('.palette__item[data-kind="debug"]').click()

    expect(page.locator(".canvas .node")).to_have_count(6)
    # The first new Debug hangs off the LLM, the second off the first (each was selected when added).
    expect(page.locator('.edge[data-id="e-llm-1.text-debug-2.value"]')).to_have_count(1)
    expect(page.locator('.edge[data-id="e-debug-2.value-debug-3.value"]')).to_have_count(1)
    boxes = [item.bounding_box() for item in page.locator(".canvas .node").all()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not rects_overlap(a, b), (a, b)
    expect(node(page, "debug-3")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / f"palette-tap-{size}.png"))


def test_ports_are_touch_targets_of_24_px_on_a_phone(page, site, tmp_path):
    page.set_viewport_size(PHONE)
    sign_up(page, site)
    import_example(page, site, tmp_path)

    sizes = page.locator(".port").evaluate_all(
        """(ports) => ports.map((port) => {
            const area = getComputedStyle(port, "::before");
            const box = port.getBoundingClientRect();
            const zoom = box.width / port.offsetWidth;
            return Math.min(parseFloat(area.width), parseFloat(area.height)) * zoom;
        })"""
    )
    assert sizes
    assert min(sizes) >= 24, sizes


def test_usage_does_not_scroll_sideways_on_a_phone(page, site, artifacts):
    page.set_viewport_size(PHONE)
    sign_up(page, site)

    page.goto(f"{site}/usage/")
    page.wait_for_load_state("networkidle")

    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
    page.screenshot(path=str(artifacts / "phone-usage.png"), full_page=True)
