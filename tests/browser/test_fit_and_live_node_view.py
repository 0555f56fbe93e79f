"""Fit at 1440x900 and 390x844 (and a narrow window with a drawer open): the whole graph, centred in the
canvas nothing covers, 200 nodes included, with F zooming back to one; and the node view opened during a run
shows the node's inputs and output once its result arrives."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests import graphs
from tests.browser.helpers import DESKTOP, PHONE, import_example, inside, node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLET = {"width": 860, "height": 900}  # narrow: the panels are drawers over the canvas


def zoom(page) -> float:
    return page.locator(".canvas__world").evaluate("el => new DOMMatrix(el.style.transform).a")


def node_boxes(page) -> list[dict]:
    return page.locator(".canvas .node").evaluate_all(
        "els => els.map(el => { const r = el.getBoundingClientRect(); "
        "return {x: r.x, y: r.y, width: r.width, height: r.height}; })"
    )


def spread(boxes: list[dict]) -> dict:
    left = min(b["x"] for b in boxes)
    top = min(b["y"] for b in boxes)
    return {
        "x": left,
        "y": top,
        "width": max(b["x"] + b["width"] for b in boxes) - left,
        "height": max(b["y"] + b["height"] for b in boxes) - top,
    }


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE), ("narrow", TABLET)])
def test_fit_shows_the_whole_graph_centred_in_the_canvas_nothing_covers(
    page, site, tmp_path, artifacts, size, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    canvas = page.locator("#canvas").bounding_box()
    clear = {**canvas, "height": page.locator("#minimap").bounding_box()["y"] - canvas["y"]}
    if size == "narrow":
        page.locator("#toggle-details").click()
        drawer = page.locator("#details-panel").bounding_box()
        clear["width"] = drawer["x"] - canvas["x"]

    page.get_by_role("button", name="Fit to view").click()

    boxes = node_boxes(page)
    assert len(boxes) == 4
    for found in boxes:
        assert inside(found, clear), f"{found} is outside the clear canvas {clear}"
    whole = spread(boxes)
    assert abs((whole["x"] + whole["width"] / 2) - (clear["x"] + clear["width"] / 2)) < 4
    page.screenshot(path=str(artifacts / f"fit-visible-area-{size}.png"))


def test_fit_shows_200_nodes_whole_and_f_zooms_to_the_selection(page, site, tmp_path, artifacts):
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    nodes = [
        graphs.node(f"text-{i + 1}", "text", position=(300 * (i % 20), 220 * (i // 20)), text=f"n{i}")
        for i in range(200)
    ]
    path = tmp_path / "Grid.json"
    path.write_text(json.dumps({"weft": 1, "name": "Grid", "description": "", "nodes": nodes, "edges": []}))
    page.goto(f"{site}/workflows/")
    page.locator("#import-file").set_input_files(path)
    page.locator(".card", has_text="Grid").first.locator(".card__title a").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator(".canvas .node")).to_have_count(200)

    page.locator("#canvas").focus()
    page.keyboard.press("Shift+1")

    canvas = page.locator("#canvas").bounding_box()
    clear = {**canvas, "height": page.locator("#minimap").bounding_box()["y"] - canvas["y"]}
    assert zoom(page) < 0.2  # below the old floor, which cut this graph off
    assert all(inside(found, clear) for found in node_boxes(page))
    # This far out the text is too small to read: the nodes are drawn without it, their ports still there.
    expect(node(page, "text-117")).to_be_visible()
    expect(node(page, "text-117").locator(".node__title")).to_be_hidden()
    expect(node(page, "text-117").locator(".node__summary")).to_be_hidden()
    expect(node(page, "text-117").locator(".port").first).to_be_visible()
    page.screenshot(path=str(artifacts / "fit-200-nodes.png"))

    page.keyboard.press("Control+k")
    page.get_by_role("dialog", name="Find a node").get_by_role("searchbox").fill("Text 117")
    page.keyboard.press("Enter")
    expect(node(page, "text-117")).to_have_attribute("aria-selected", "true")
    assert zoom(page) >= 0.8
    assert inside(node(page, "text-117").bounding_box(), canvas)
    expect(node(page, "text-117").locator(".node__title")).to_be_visible()
    page.locator("#canvas").focus()
    page.keyboard.press("Shift+1")
    page.keyboard.press("f")
    assert zoom(page) >= 0.8
    assert inside(node(page, "text-117").bounding_box(), canvas)
    node(page, "text-117").locator(".node__title").click(button="right")
    zoom_item = page.get_by_role("menu").get_by_role("menuitem", name="Zoom to selection")
    expect(zoom_item).to_have_attribute("aria-keyshortcuts", "F")
    page.keyboard.press("Escape")
    page.locator("#canvas").focus()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("Zoom to the selection")


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_node_view_open_during_a_run_shows_the_result_when_it_arrives(
    page, site, tmp_path, llm, worker, artifacts, size, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    llm.latency_s = 4  # the LLM answers after the view is open
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "llm-1")).to_have_class(re.compile(r"\bstatus-running\b"), timeout=20_000)

    node(page, "llm-1").locator(".node__title").dblclick()
    view = page.get_by_role("dialog")
    output = view.locator('[data-column="output"]')
    inputs = view.locator('[data-column="input"]')
    if size == "phone":
        view.get_by_role("button", name="Output", exact=True).click()
    expect(output).to_contain_text("no result in the run shown")

    expect(output).to_contain_text("echo: Tell me about owls", timeout=20_000)
    page.screenshot(path=str(artifacts / f"node-view-live-{size}.png"))
    if size == "phone":
        view.get_by_role("button", name="Input", exact=True).click()
    expect(inputs).to_contain_text("Tell me about owls")
    expect(view.locator('[data-column="settings"] #field-llm-1-temperature')).to_be_attached()
