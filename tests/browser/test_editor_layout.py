"""The editor and the pages at 1440x900 and on a 390x844 phone: no sideways scrolling anywhere, drawers and a
header menu on the phone, readable nodes, collapsible panels remembered, Arrange without overlaps, and the
Output tab after a run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import DESKTOP, PHONE, import_example, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NODES = ["text-1", "prompt-1", "llm-1", "debug-1"]


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def zoom(page: Page) -> float:
    return page.locator(".canvas__world").evaluate("el => new DOMMatrix(el.style.transform).a")


def test_no_page_scrolls_sideways_on_a_phone(page, site, tmp_path, llm, worker, artifacts):
    page.set_viewport_size(PHONE)
    page.goto(f"{site}/accounts/login/")
    assert horizontal_overflow(page) == 0, "login"
    page.goto(f"{site}/accounts/signup/")
    assert horizontal_overflow(page) == 0, "signup"
    sign_up(page, site, email="a-rather-long-address-for-a-phone@example.com")
    editor_url = import_example(page, site, tmp_path)
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "debug-1")).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)
    run_url = page.locator("#run-banner a").get_attribute("href")

    pages = {
        "workflows": "/workflows/",
        "editor": editor_url,
        "runs": "/runs/",
        "run": run_url,
        "tokens": "/settings/tokens/",
        "api-docs": "/api/docs/",
    }
    for name, path in pages.items():
        page.goto(path if path.startswith("http") else f"{site}{path}")
        page.wait_for_load_state("networkidle")
        assert horizontal_overflow(page) == 0, f"{name} scrolls sideways at 390 px"
        # The header's email and Log out fold into a menu.
        if name != "api-docs":
            expect(page.get_by_role("button", name="Log out")).to_be_hidden()
        page.screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=True)

    page.goto(f"{site}/runs/")
    page.get_by_role("button", name="☰ Menu").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows")).to_be_visible()
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(artifacts / "phone-menu.png"))


def test_the_editor_on_a_phone_gives_the_canvas_the_screen_and_panels_as_drawers(
    page, site, tmp_path, artifacts
):
    page.set_viewport_size(PHONE)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    canvas = page.locator("#canvas").bounding_box()
    assert canvas["width"] >= 380, canvas
    assert canvas["height"] >= 500, canvas
    for name in ["More actions", "▶ Run"]:  # Save is in the toolbar's overflow menu (test_phone.py)
        box = page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box["x"] >= 0, (name, box)
        assert box["x"] + box["width"] <= PHONE["width"], (name, box)
    expect(page.locator("#palette-panel")).to_be_hidden()
    expect(page.locator("#details-panel")).to_be_hidden()
    page.screenshot(path=str(artifacts / "phone-editor.png"))

    # The palette is a drawer: tapping a kind adds it in free space and closes the drawer.
    page.get_by_role("button", name="+ Nodes").click()
    expect(page.locator("#palette-panel")).to_be_visible()
    page.screenshot(path=str(artifacts / "phone-editor-palette.png"))
    page.locator('.palette__item[data-kind="text"]').click()
    expect(page.locator(".canvas .node")).to_have_count(5)
    expect(page.locator("#palette-panel")).to_be_hidden()

    # Double-click (double-tap) a node: its view opens on its settings.
    node(page, "prompt-1").locator(".node__title").dblclick()
    expect(page.get_by_role("dialog").locator("#field-prompt-1-template")).to_be_visible()
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(artifacts / "phone-editor-settings.png"))
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    expect(page.locator("#details-panel")).to_be_hidden()


def test_nodes_are_readable_panels_collapse_and_arrange_keeps_nodes_apart(page, site, tmp_path, artifacts):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)

    # Each node: an icon for its kind, a title, a one-line summary of its settings.
    text = node(page, "text-1")
    expect(text.locator(".node__icon")).to_have_text("¶")
    expect(text.locator(".node__title")).to_have_text("Text 1")
    expect(text.locator(".node__summary")).to_have_text("owls")
    expect(node(page, "prompt-1").locator(".node__summary")).to_have_text("Tell me about {{topic}}")
    expect(node(page, "llm-1").locator(".node__summary")).to_contain_text("Default models")
    icons = page.locator(".canvas .node .node__icon").all_text_contents()
    assert len(set(icons)) == 4, icons
    title_px = float(text.locator(".node__title").evaluate("el => getComputedStyle(el).fontSize")[:-2])
    assert title_px * zoom(page) >= 12, "titles readable after fit"
    page.screenshot(path=str(artifacts / "desktop-editor-readable.png"))

    # Panels collapse, and stay collapsed after a reload in this browser.
    width_before = page.locator("#canvas").bounding_box()["width"]
    page.get_by_role("button", name="+ Nodes").click()
    page.get_by_role("button", name="☰ Details").click()
    expect(page.locator("#palette-panel")).to_be_hidden()
    assert page.locator("#canvas").bounding_box()["width"] >= width_before + 500
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#palette-panel")).to_be_hidden()
    expect(page.locator("#details-panel")).to_be_hidden()
    assert page.locator("#canvas").bounding_box()["width"] == DESKTOP["width"]
    page.get_by_role("button", name="☰ Details").click()
    expect(page.locator("#details-panel")).to_be_visible()

    # A long text makes no node taller than its neighbours' room: Arrange uses the real sizes.
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("owls " * 400)
    height = node(page, "text-1").bounding_box()["height"]
    page.locator("#field-text-1-text").fill("owls")
    assert node(page, "text-1").bounding_box()["height"] == height, "a node keeps its size whatever it holds"
    page.get_by_role("button", name="Arrange").click()
    boxes = [node(page, node_id).bounding_box() for node_id in NODES]
    xs = [box["x"] for box in boxes]
    assert xs == sorted(xs), xs
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a, b)
    page.screenshot(path=str(artifacts / "desktop-editor-arranged.png"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_output_tab_shows_what_a_node_received_and_produced(
    page, site, tmp_path, llm, worker, artifacts, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    page.get_by_role("button", name="▶ Run").click()
    for node_id in NODES:
        expect(node(page, node_id)).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)
    # The result scrolls inside the node rather than growing it.
    scroll = node(page, "llm-1").locator(".node__scroll")
    expect(scroll).to_contain_text("echo: Tell me about owls")

    node(page, "llm-1").locator(".node__title").click(button="right")
    page.get_by_role("menuitem", name="Open settings").click()
    page.get_by_role("tab", name="Output").click()
    output = page.locator("#node-output")
    expect(output.locator(".badge")).to_have_text("succeeded")
    expect(output).to_contain_text("Inputs")
    expect(output.locator(".port-value", has_text="prompt")).to_contain_text("Tell me about owls")
    expect(output.locator(".port-value", has_text="text")).to_contain_text("echo: Tell me about owls")
    expect(output.locator("dd").nth(2)).to_contain_text("gemini")
    expect(output.locator("dd").nth(3)).to_contain_text("tokens")
    expect(output.locator("dt", has_text="Cost")).to_be_visible()
    assert "null" not in output.inner_text()
    expect(output.get_by_role("link").first).to_have_attribute("href", re.compile(r"^/runs/[0-9a-f-]{36}/$"))
    page.screenshot(path=str(artifacts / f"output-tab-{viewport['width']}.png"))
