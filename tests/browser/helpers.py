"""Steps the browser tests share: signing up, dragging kinds from the palette, connecting ports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests import graphs

PASSWORD = "weft-Correct-horse-42"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def sign_up(page: Page, site: str, email: str = "alice@example.com") -> None:
    page.goto(f"{site}/")
    expect(page).to_have_url(f"{site}/accounts/login/")
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{site}/workflows/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def create_workflow(page: Page, name: str) -> str:
    """From the workflows page: a new empty workflow, open in the editor; returns its id."""
    page.get_by_role("button", name="New workflow").click()
    page.locator("[data-template=blank]").click()  # the gallery's first card
    # The textbox: on a list with workflows, "Rename <name>" buttons match the label "Name" too.
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}/$"))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page.url.rstrip("/").rsplit("/", 1)[1]


def open_editor_ready(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def drop_kind(page: Page, kind: str, x: float, y: float) -> None:
    """Drags a kind from the palette to (x, y) inside the canvas."""
    canvas = page.locator("#canvas").bounding_box()
    drag(page, centre(page, f'.palette__item[data-kind="{kind}"]'), (canvas["x"] + x, canvas["y"] + y))


def connect(page: Page, source: str, output: str, target: str, input_: str) -> None:
    drag(
        page,
        centre(page, f'.port--out[data-node="{source}"][data-port="{output}"]'),
        centre(page, f'.port--in[data-node="{target}"][data-port="{input_}"]'),
    )


def node(page: Page, node_id: str):
    return page.locator(f'.node[data-id="{node_id}"]')


def select_node(page: Page, node_id: str) -> None:
    node(page, node_id).locator(".node__header").click()


def write_graph_file(folder: Path, name: str, *, template: str = "Tell me about {{topic}}") -> Path:
    """A Weft export file holding Text -> Prompt -> LLM -> Debug."""
    kinds = [
        ("text-1", "text", {"text": "owls"}),
        ("prompt-1", "prompt", {"template": template}),
        ("llm-1", "llm", {}),
        ("debug-1", "debug", {}),
    ]
    nodes = [
        graphs.node(node_id, kind, position=(300 * index, 0), **data)
        for index, (node_id, kind, data) in enumerate(kinds)
    ]
    edges = [
        graphs.edge("text-1", "prompt-1", "text", "topic"),
        graphs.edge("prompt-1", "llm-1", "text", "prompt"),
        graphs.edge("llm-1", "debug-1", "text", "value"),
    ]
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"weft": 1, "name": name, "description": "", "nodes": nodes, "edges": edges}))
    return path


def import_example(page: Page, site: str, folder, name: str = "Owl facts") -> str:
    """Imports Text -> Prompt -> LLM -> Debug from the list page and opens it; returns the editor's URL."""
    page.goto(f"{site}/workflows/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#import-file").set_input_files(write_graph_file(folder, name))
    card = page.locator(".card", has_text=name).first
    expect(card).to_be_visible()
    card.locator(".card__title a").click()
    expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}/$"))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page.url


def inside(inner: dict, outer: dict, slack: float = 1) -> bool:
    """Whether the box `inner` lies within `outer` (bounding boxes; `slack` pixels of rounding allowed)."""
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )
