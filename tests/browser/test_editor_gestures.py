"""Gestures a user expects from n8n or Dify, with a real mouse in Chromium: context menus, a hover delete on
edges, double-click to open settings, a node picker when a connection is dropped on the canvas (from an
output or an input), a placeholder rename that keeps its edge, node names in messages, the Image node's
drop zone and dropping an image file on the canvas, and the small things."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from engine import node_kind_catalog
from engine.kinds.rules import holds
from engine.ports import types_compatible
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    centre,
    connect,
    drag,
    import_example,
    node,
    select_node,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def edge_middle(page: Page, selector: str) -> tuple[float, float]:
    return page.locator(selector).first.evaluate(
        """path => {
            const point = path.getPointAtLength(path.getTotalLength() / 2);
            const m = path.getScreenCTM();
            return [point.x * m.a + m.e, point.y * m.d + m.f];
        }"""
    )


def empty_spot(page: Page) -> tuple[float, float]:
    """A point of the canvas with no node on it (below the example's row of nodes)."""
    box = page.locator("#canvas").bounding_box()
    lowest = max(
        b["y"] + b["height"] for b in (n.bounding_box() for n in page.locator(".canvas .node").all())
    )
    return box["x"] + box["width"] * 0.45, min(box["y"] + box["height"] - 120, lowest + 90)


def kinds_taking(port_type: str, *, side: str) -> set[str]:
    """Kinds a connection dropped from an output (side "out") or an input (side "in") of this type can use."""

    def fits(a: str, b: str) -> bool:
        return types_compatible(a, b)

    def on_a_new_node(ports: list[dict]) -> list[dict]:
        # A port shown only when the node's data says so (Condition's, an error branch) is not on a new node.
        return [port for port in ports if "when" not in port or holds(port["when"], {})]

    catalog = node_kind_catalog()
    if side == "out":
        return {
            k["type"] for k in catalog if any(fits(port_type, p["type"]) for p in on_a_new_node(k["inputs"]))
        }
    return {
        k["type"] for k in catalog if any(fits(p["type"], port_type) for p in on_a_new_node(k["outputs"]))
    }


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_context_menus_hover_delete_double_click_and_the_selected_edge(
    page, site, tmp_path, llm, worker, artifacts
):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    expect(page.locator(".edge")).to_have_count(3)

    # Right-click a node: its actions.
    node(page, "llm-1").locator(".node__title").click(button="right")
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    # Each item's label; a shortcut beside it is in its own <kbd>.
    items = menu.locator("[role=menuitem] > span").all_text_contents()
    assert items == [
        "Open settings",
        "Run this node",
        "Run from here",
        "Duplicate",
        "Copy",
        "Disable",
        "Group…",
        "Zoom to selection",
        "Delete",
    ], items
    page.screenshot(path=str(artifacts / "context-menu-node.png"))
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    # "Run this node" from the menu runs just that node.
    node(page, "text-1").locator(".node__title").click(button="right")
    page.get_by_role("menuitem", name="Run this node").click()
    expect(node(page, "text-1")).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)
    expect(page.locator("#run-banner")).to_contain_text("succeeded")
    expect(node(page, "debug-1")).not_to_have_class(re.compile(r"\bstatus-"))

    node(page, "llm-1").locator(".node__title").click(button="right")
    page.get_by_role("menuitem", name="Duplicate").click()
    expect(page.locator(".canvas .node")).to_have_count(5)
    expect(node(page, "llm-2").locator(".node__title")).to_have_text("LLM 2")
    node(page, "llm-2").locator(".node__title").click(button="right")
    page.get_by_role("menuitem", name="Delete").click()
    expect(page.locator(".canvas .node")).to_have_count(4)

    # Right-click the empty canvas: add a node through the picker.
    spot = empty_spot(page)
    page.mouse.click(*spot, button="right")
    page.get_by_role("menuitem", name="Add node…").click()
    picker = page.get_by_role("dialog", name="Add a node")
    picker.get_by_role("searchbox").fill("deb")
    page.keyboard.press("Enter")
    expect(page.locator(".canvas .node")).to_have_count(5)
    expect(node(page, "debug-2")).to_have_class(re.compile(r"\bis-selected\b"))
    page.keyboard.press("Escape")

    # Click an edge: it is clearly highlighted. Right-click it: delete.
    page.mouse.click(*edge_middle(page, '.edge[data-id="text-1.text-prompt-1.topic"] .edge__hit'))
    selected = page.locator(".edge.is-selected .edge__line")
    expect(selected).to_have_count(1)
    assert float(selected.evaluate("el => getComputedStyle(el).strokeWidth")[:-2]) >= 4
    page.screenshot(path=str(artifacts / "selected-edge.png"))
    page.mouse.click(
        *edge_middle(page, '.edge[data-id="text-1.text-prompt-1.topic"] .edge__hit'), button="right"
    )
    page.get_by_role("menuitem", name="Delete connection").click()
    expect(page.locator(".edge")).to_have_count(2)

    # Hover an edge: a delete button at its middle.
    page.mouse.move(*edge_middle(page, '.edge[data-id="llm-1.text-debug-1.value"] .edge__hit'))
    button = page.get_by_role("button", name="Delete this connection")
    expect(button).to_be_visible()
    page.screenshot(path=str(artifacts / "edge-hover-delete.png"))
    button.click()
    expect(page.locator(".edge")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(page.locator(".edge")).to_have_count(2)

    # Double-click opens a node's view with its settings, even with the panel collapsed.
    page.get_by_role("button", name="☰ Details").click()
    expect(page.locator("#details-panel")).to_be_hidden()
    node(page, "text-1").locator(".node__title").dblclick()
    expect(page.get_by_role("dialog").locator("#field-text-1-text")).to_have_value("owls")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_connection_dropped_on_the_canvas_offers_the_kinds_that_fit(
    page, site, tmp_path, artifacts, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)

    # From an output: only kinds with an input that takes text, and the new node is connected.
    drag(page, centre(page, '.port--out[data-node="text-1"][data-port="text"]'), empty_spot(page))
    picker = page.get_by_role("dialog", name="Add a node")
    expect(picker).to_be_visible()
    offered = set(picker.locator(".picker__item").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert offered == kinds_taking("text", side="out"), offered
    assert "text" not in offered
    page.screenshot(path=str(artifacts / f"picker-from-output-{viewport['width']}.png"))
    picker.locator('.picker__item[data-kind="debug"]').click()
    expect(page.locator(".canvas .node")).to_have_count(5)
    expect(page.locator('.edge[data-id="e-text-1.text-debug-2.value"]')).to_have_count(1)

    # From an input: the kinds with an output that can feed it.
    page.keyboard.press("Escape")
    drag(page, centre(page, '.port--in[data-node="prompt-1"][data-port="topic"]'), empty_spot(page))
    picker = page.get_by_role("dialog", name="Add a node")
    offered = set(picker.locator(".picker__item").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert offered == kinds_taking("text", side="in"), offered
    picker.locator('.picker__item[data-kind="text"]').click()
    expect(page.locator('.edge[data-id="e-text-2.text-prompt-1.topic"]')).to_have_count(1)
    page.screenshot(path=str(artifacts / f"picker-connected-{viewport['width']}.png"))
    page.keyboard.press("Control+z")
    expect(page.locator(".canvas .node")).to_have_count(5)
    if viewport is PHONE:
        return

    # Dragging from an input onto an output connects them too.
    drag(
        page,
        centre(page, '.port--in[data-node="llm-1"][data-port="system"]'),
        centre(page, '.port--out[data-node="text-1"][data-port="text"]'),
    )
    expect(page.locator('.edge[data-id="e-text-1.text-llm-1.system"]')).to_have_count(1)


def test_renaming_a_placeholder_keeps_its_edge_and_messages_name_nodes(page, site, tmp_path, artifacts):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    select_node(page, "prompt-1")
    field = page.locator("#field-prompt-1-template")
    field.click()
    page.keyboard.press("End")
    for _ in "topic}}":
        page.keyboard.press("Backspace")
        expect(page.locator(".edge")).to_have_count(3)  # kept while typing
    page.keyboard.type("subject}}")
    expect(field).to_have_value("Tell me about {{subject}}")
    expect(page.locator(".edge")).to_have_count(3)
    page.locator("#canvas").click(position={"x": 5, "y": 5})
    expect(page.locator('.port--in[data-node="prompt-1"][data-port="subject"]')).to_be_visible()
    expect(page.locator(".edge")).to_have_count(3)
    targets = page.locator(".edge").evaluate_all("els => els.map(e => e.dataset.id)")
    assert "text-1.text-prompt-1.topic" in targets, targets  # the same edge, remapped
    subject = page.locator('.port--in[data-node="prompt-1"][data-port="subject"]').bounding_box()
    assert subject is not None

    # A refusal names nodes as the canvas does, not by id.
    connect(page, "llm-1", "text", "prompt-1", "subject")
    message = page.locator("#canvas-message")
    expect(message).to_contain_text("connecting LLM 1 to Prompt 1 would close a cycle")
    assert "llm-1" not in message.inner_text()
    page.screenshot(path=str(artifacts / "message-with-names.png"))
    message.get_by_role("button", name="Dismiss").click()
    expect(message).to_be_hidden()

    # Removing a placeholder for good drops its edge once the field is left.
    select_node(page, "prompt-1")
    field.fill("No placeholders")
    page.locator("#canvas").click(position={"x": 5, "y": 5})
    expect(page.locator(".edge")).to_have_count(2)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_image_file_dropped_on_the_canvas_becomes_an_image_node(
    page, site, tmp_path, media, artifacts, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    box = page.locator("#canvas").bounding_box()
    transfer = page.evaluate_handle(
        """bytes => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "barn owl.png", { type: "image/png" }));
            return transfer;
        }""",
        list(png()),
    )
    at = {"clientX": box["x"] + box["width"] / 2, "clientY": box["y"] + 60}
    page.dispatch_event("#canvas", "dragover", {"dataTransfer": transfer, **at})
    page.dispatch_event("#canvas", "drop", {"dataTransfer": transfer, **at})
    image = node(page, "image-1")
    expect(image).to_be_visible()
    expect(image.locator(".node__title")).to_have_text("barn owl")
    expect(image.locator("img.node__thumb")).to_have_js_property("naturalWidth", 40)

    image.locator(".node__title").dblclick()
    zone = page.locator(".drop-zone")
    expect(zone).to_be_visible()
    expect(zone.locator("img")).to_have_js_property("naturalWidth", 40)
    expect(page.locator("#field-image-1-uploadId")).to_have_count(0)  # no raw upload id
    expect(page.locator("#image-url")).to_be_hidden()  # the URL is only the alternative
    page.get_by_text("Use an image URL instead").click()
    expect(page.locator("#image-url")).to_be_visible()
    page.screenshot(path=str(artifacts / f"image-node-{viewport['width']}.png"))

    # Choosing a file in the drop zone replaces the image.
    page.locator("#image-upload").set_input_files(
        files=[{"name": "other.png", "mimeType": "image/png", "buffer": png((64, 20))}]
    )
    expect(page.locator(".drop-zone img")).to_have_js_property("naturalWidth", 64)


def test_a_node_disabled_from_its_menu_is_dimmed_and_skipped_as_disabled_by_the_run(
    page, site, tmp_path, llm, worker, artifacts
):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)  # Text -> Prompt -> LLM -> Debug

    node(page, "llm-1").locator(".node__title").click(button="right")
    page.get_by_role("menuitem", name="Disable").click()
    expect(node(page, "llm-1")).to_have_class(re.compile(r"\bis-disabled\b"))
    expect(node(page, "llm-1").locator(".node__disabled")).to_have_text("disabled")
    expect(node(page, "llm-1")).to_have_css("opacity", re.compile(r"^0(\.\d+)?$"))
    expect(node(page, "prompt-1")).not_to_have_class(re.compile(r"\bis-disabled\b"))
    page.screenshot(path=str(artifacts / "disabled-node.png"))

    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "prompt-1")).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)
    expect(node(page, "llm-1")).to_have_class(re.compile(r"\bstatus-skipped\b"), timeout=20_000)
    expect(node(page, "debug-1")).to_have_class(re.compile(r"\bstatus-skipped\b"))
    expect(node(page, "llm-1")).to_contain_text("the node is disabled")
    expect(node(page, "llm-1").locator(".node__skip")).to_have_text("Skipped: disabled")
    expect(node(page, "debug-1")).to_contain_text("upstream node 'LLM 1' is disabled")
    expect(page.locator("#run-banner")).to_contain_text("succeeded")
    assert llm.requests == []  # the disabled LLM was never called

    # Enable again from the same menu.
    node(page, "llm-1").locator(".node__title").click(button="right")
    page.get_by_role("menuitem", name="Enable").click()
    expect(node(page, "llm-1")).not_to_have_class(re.compile(r"\bis-disabled\b"))
    expect(node(page, "llm-1").locator(".node__disabled")).to_have_count(0)

    # The run's own page names the reason.
    page.goto(f"{site}/runs/")
    page.locator("#run-rows a[href^='/runs/']").first.click()
    expect(page.get_by_text("Skipped (disabled): the node is disabled")).to_be_visible(timeout=20_000)


def test_the_small_things(page, site, tmp_path, llm, worker, artifacts):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    # An imported workflow says so.
    expect(page.get_by_label("Workflow name")).to_have_value("Owl facts (imported)")

    # Pasted labelled nodes say they are copies.
    select_node(page, "text-1")
    page.locator("#field-text-1-label").fill("Topic")
    page.locator("#canvas").click(position={"x": 5, "y": 5})
    select_node(page, "text-1")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(node(page, "text-2").locator(".node__title")).to_have_text("Topic copy")
    expect(node(page, "text-2").locator(".node__title")).to_have_attribute("title", "Topic copy")
    page.keyboard.press("Control+z")

    # Known models are offered in the model chain, any name still allowed.
    select_node(page, "llm-1")
    page.get_by_role("button", name="Add model").click()
    known = page.locator("#field-llm-1-models-suggestions option[value='gemini/gemini-2.5-flash']")
    expect(known).to_have_count(1)
    entry = page.locator("#field-llm-1-models input").first
    entry.fill("mine/my-own-model")
    expect(page.locator("#field-llm-1-models-error")).to_be_empty()
    entry.fill("gemini/gemini-2.5-flash")
    entry.press("Tab")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(re.compile(r"^Saved"))
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "debug-1")).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=20_000)

    # "1 run", and no pager for a single page.
    page.goto(f"{site}/workflows/")
    expect(page.locator(".card").first).to_contain_text("4 nodes · 1 run ·")
    page.goto(f"{site}/runs/")
    expect(page.locator("#pager")).to_have_text("1 run")

    # The API docs lead back to the app.
    page.goto(f"{site}/api/docs/")
    page.get_by_role("link", name="← Back to Weft").click()
    expect(page).to_have_url(f"{site}/workflows/")
