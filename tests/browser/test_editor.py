"""End to end in Chromium: sign up, build Text -> Prompt -> LLM -> Debug by drag and drop, edit, save, run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import connect, create_workflow, drag, drop_kind, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NODES = ["text-1", "prompt-1", "llm-1", "debug-1"]


def view(page) -> tuple[float, float, float]:
    """The canvas view (x, y, zoom) from the world layer's transform."""
    transform = page.locator(".canvas__world").evaluate("el => el.style.transform")
    x, y, zoom = re.fullmatch(r"translate\(([-\d.]+)px, ([-\d.]+)px\) scale\(([\d.]+)\)", transform).groups()
    return float(x), float(y), float(zoom)


def assert_inside(box, area) -> None:
    assert box["x"] >= area["x"], (box, area)
    assert box["y"] >= area["y"], (box, area)
    assert box["x"] + box["width"] <= area["x"] + area["width"], (box, area)
    assert box["y"] + box["height"] <= area["y"] + area["height"], (box, area)


def test_build_connect_undo_save_reload_and_run_a_workflow(page, site, llm, worker, artifacts):
    sign_up(page, site)
    expect(page.get_by_text("No workflows yet")).to_be_visible()

    create_workflow(page, "Owl facts")
    expect(page.locator("#canvas-empty")).to_be_visible()

    # Build by dragging kinds from the palette onto the canvas.
    for kind, x, y in [("text", 60, 80), ("prompt", 360, 80), ("llm", 60, 360), ("debug", 360, 360)]:
        drop_kind(page, kind, x, y)
    expect(page.locator(".canvas .node")).to_have_count(4)
    assert page.locator(".canvas .node").evaluate_all("els => els.map(e => e.dataset.id)") == NODES

    # Settings come from each kind's schema; a prompt placeholder becomes an input port.
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("owls")
    select_node(page, "prompt-1")
    page.locator("#field-prompt-1-template").fill("Tell me about {{topic}}")
    expect(page.locator('.port--in[data-node="prompt-1"][data-port="topic"]')).to_be_visible()

    # A bad value is shown on the field and on the node, and goes away when fixed.
    select_node(page, "llm-1")
    page.locator("#field-llm-1-temperature").fill("5")
    expect(page.locator("#field-llm-1-temperature-error")).to_contain_text("must be at most 2")
    expect(node(page, "llm-1")).to_have_class(re.compile(r"\bis-invalid\b"))
    page.locator("#field-llm-1-temperature").fill("0.2")
    expect(page.locator("#field-llm-1-temperature-error")).to_be_empty()

    connect(page, "text-1", "text", "prompt-1", "topic")
    connect(page, "prompt-1", "text", "llm-1", "prompt")
    connect(page, "llm-1", "text", "debug-1", "value")
    expect(page.locator(".edge")).to_have_count(3)
    expect(node(page, "llm-1")).not_to_have_class(re.compile(r"\bis-invalid\b"))

    # Refused at once, with a visible reason: a cycle, and incompatible port types.
    connect(page, "debug-1", "value", "prompt-1", "topic")
    expect(page.locator("#canvas-message")).to_contain_text("would close a cycle")
    connect(page, "text-1", "text", "llm-1", "images")
    expect(page.locator("#canvas-message")).to_contain_text("Incompatible ports")
    expect(page.locator(".edge")).to_have_count(3)

    # Delete, undo, redo, undo again.
    select_node(page, "debug-1")
    page.keyboard.press("Delete")
    expect(page.locator(".canvas .node")).to_have_count(3)
    expect(page.locator(".edge")).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(page.locator(".canvas .node")).to_have_count(4)
    expect(page.locator(".edge")).to_have_count(3)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator(".canvas .node")).to_have_count(3)
    page.keyboard.press("Control+z")
    expect(page.locator(".canvas .node")).to_have_count(4)
    expect(page.locator(".edge")).to_have_count(3)

    # An edge is selected by clicking it and deleted with the Delete key.
    middle = page.locator('.edge[data-id^="e-text-1"] .edge__hit').evaluate(
        """path => {
            const point = path.getPointAtLength(path.getTotalLength() / 2);
            const m = path.getScreenCTM();
            return [point.x * m.a + m.e, point.y * m.d + m.f];
        }"""
    )
    page.mouse.click(*middle)
    expect(page.locator(".edge.is-selected")).to_have_count(1)
    page.keyboard.press("Delete")
    expect(page.locator(".edge")).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(page.locator(".edge")).to_have_count(3)

    # From the keyboard: Tab to a node, Enter selects it, arrows move it; undo puts it back.
    node(page, "text-1").focus()
    page.keyboard.press("Enter")
    expect(node(page, "text-1")).to_have_attribute("aria-selected", "true")
    before = node(page, "text-1").bounding_box()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    moved = node(page, "text-1").bounding_box()
    assert moved["x"] > before["x"]
    assert moved["y"] > before["y"]
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert node(page, "text-1").bounding_box() == before

    # Copy and paste a node, then undo the paste.
    select_node(page, "text-1")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.locator(".canvas .node")).to_have_count(5)
    expect(node(page, "text-2")).to_have_class(re.compile(r"\bis-selected\b"))
    page.keyboard.press("Control+z")
    expect(page.locator(".canvas .node")).to_have_count(4)

    # Keyboard: Enter on a palette kind adds it in the middle of the view.
    page.locator('.palette__item[data-kind="debug"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator(".canvas .node")).to_have_count(5)
    page.locator("#canvas").focus()
    page.keyboard.press("Control+z")
    expect(page.locator(".canvas .node")).to_have_count(4)

    # Zoom with the buttons and the wheel, pan by dragging the background, fit to view, the minimap.
    start = view(page)
    page.get_by_role("button", name="Zoom in").click()
    assert view(page)[2] == pytest.approx(start[2] * 1.2)
    page.get_by_role("button", name="Zoom out").click()
    canvas = page.locator("#canvas").bounding_box()
    page.mouse.move(canvas["x"] + 700, canvas["y"] + 60)
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        "zoom => new DOMMatrix(document.querySelector('.canvas__world').style.transform).a > zoom",
        arg=start[2],
    )
    before = view(page)
    drag(page, (canvas["x"] + 700, canvas["y"] + 40), (canvas["x"] + 600, canvas["y"] + 140))
    after = view(page)
    assert (after[0] - before[0], after[1] - before[1]) == pytest.approx((-100, 100), abs=2)
    page.get_by_role("button", name="Fit to view").click()
    for node_id in NODES:
        assert_inside(node(page, node_id).bounding_box(), canvas)
    before = view(page)
    minimap = page.locator("#minimap").bounding_box()
    page.mouse.click(minimap["x"] + 5, minimap["y"] + 5)
    assert view(page)[:2] != before[:2]

    # Auto-arrange puts the chain left to right.
    page.get_by_role("button", name="Arrange").click()
    xs = [node(page, node_id).bounding_box()["x"] for node_id in NODES]
    assert xs == sorted(xs), xs

    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator(".canvas .node")).to_have_count(4)
    expect(page.locator(".edge")).to_have_count(3)
    select_node(page, "prompt-1")
    expect(page.locator("#field-prompt-1-template")).to_have_value("Tell me about {{topic}}")
    select_node(page, "llm-1")
    expect(page.locator("#field-llm-1-temperature")).to_have_value("0.2")
    page.screenshot(path=str(artifacts / "editor.png"))

    # Leaving with unsaved changes asks first.
    page.get_by_label("Workflow name").fill("Owl facts, edited")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="← Workflows").click()
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    assert dialogs == ["beforeunload"]

    # Saved meanwhile in another tab: saving here says "changed elsewhere"; overwrite wins.
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("body")).to_have_attribute("data-ready", "true")
    other.get_by_label("Workflow name").fill("Owl facts from the other tab")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.locator("#save-state")).to_have_text("Saved · version 3")
    other.close()
    page.expected_statuses.add(409)
    page.get_by_role("button", name="Save", exact=True).click()
    conflict = page.get_by_role("dialog")
    expect(conflict).to_contain_text("changed elsewhere")
    conflict.get_by_role("button", name="Overwrite").click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 4")

    page.get_by_role("button", name="▶ Run").click()
    for node_id in NODES:
        expect(node(page, node_id)).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)
    expect(node(page, "llm-1").locator(".node__output")).to_contain_text("echo: Tell me about owls")
    expect(node(page, "llm-1").locator(".node__meta")).to_contain_text("tokens")
    expect(node(page, "debug-1").locator(".node__output")).to_contain_text("echo: Tell me about owls")
    assert [r.provider for r in llm.requests] == ["gemini"]
    page.screenshot(path=str(artifacts / "editor-run.png"))

    # The run history panel lists it; the run page shows results, a timeline and logs.
    page.get_by_role("tab", name="Runs").click()
    expect(page.locator("#run-history .run-item")).to_have_count(1)
    page.locator("#run-banner").get_by_role("link", name="Open run page").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    expect(page.locator("body")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#node-rows tr[data-status=succeeded]")).to_have_count(4)
    expect(page.locator("#node-rows")).to_contain_text("echo: Tell me about owls")
    expect(page.locator("#timeline .timeline__row")).to_have_count(4)
    expect(page.locator("#logs li").first).to_be_visible()
    page.screenshot(path=str(artifacts / "run-page.png"), full_page=True)
    first_run = page.url

    page.get_by_role("button", name="Run again").click()
    expect(page).not_to_have_url(first_run)
    expect(page.locator("body")).to_have_attribute("data-status", "succeeded", timeout=20_000)
    # The unchanged Text and Prompt are reused; the LLM (temperature 0.2) and what follows it run again.
    expect(page.locator("#node-rows tr[data-status=succeeded]")).to_have_count(2)
    expect(page.locator("#node-rows tr[data-status=reused]")).to_have_count(2)
