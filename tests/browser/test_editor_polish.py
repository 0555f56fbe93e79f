"""End to end in Chromium: the small things a new user trips over (issue 29, point 10): Enter in dialogs, the
Details tabs, the API tab, the picker's icons, checkboxes, overlays over nodes, image results, toasts, the
usage page's empty period and version notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.helpers import DESKTOP, PHONE, import_example, node, select_node, sign_up
from tests.factories import NodeResultFactory, WorkflowRunFactory
from uploads.services import upload_create

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def open_details(page: Page) -> None:
    """On a phone the Details panel starts closed."""
    toggle = page.locator("#toggle-details")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def test_enter_in_the_new_workflow_and_rename_dialogs_presses_their_action(page, site):
    sign_up(page, site)
    page.get_by_role("button", name="New workflow").click()
    page.locator("[data-template=blank]").click()  # the template gallery's blank canvas
    page.get_by_role("textbox", name="Name").fill("Typed then Enter")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}/$"))
    expect(page.get_by_label("Workflow name")).to_have_value("Typed then Enter")

    page.goto(f"{site}/workflows/")
    page.get_by_role("button", name="Rename Typed then Enter").click()
    page.get_by_role("textbox", name="Name").fill("Renamed by Enter")
    page.keyboard.press("Enter")
    expect(page.locator(".card").filter(has_text="Renamed by Enter")).to_have_count(1)
    # Escape still cancels.
    page.get_by_role("button", name="Rename Renamed by Enter").click()
    page.get_by_role("textbox", name="Name").fill("Not kept")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".card").filter(has_text="Renamed by Enter")).to_have_count(1)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_details_tabs_fit_and_the_api_tab_explains_its_interface(page, site, tmp_path, artifacts, viewport):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)  # Text -> Prompt -> LLM -> Debug: no Input, no Output node
    open_details(page)
    panel = page.locator("#details-panel")
    tabs = panel.locator(".tabs")
    assert tabs.evaluate("t => t.scrollWidth <= t.clientWidth")
    assert panel.evaluate("p => p.scrollWidth <= p.clientWidth")
    left = panel.bounding_box()["x"]
    page.get_by_role("tab", name="API").click()
    api_tab = page.get_by_role("tab", name="API").bounding_box()
    assert api_tab["x"] + api_tab["width"] <= left + panel.bounding_box()["width"]
    assert panel.bounding_box()["x"] == left  # choosing the tab does not shift the panel

    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator("#api-published-state")).to_have_text("Published: v1")
    # Publishing v1 again would change nothing: no "Publish v1" beside "Published: v1".
    expect(page.locator("#api-publish")).to_have_count(0)
    expect(page.locator("#api-interface-hint")).to_contain_text("no Output nodes")
    expect(page.locator("#api-interface-hint")).to_contain_text('"outputs": {}')
    name = "desktop" if viewport == DESKTOP else "phone"
    page.screenshot(path=str(artifacts / f"editor-api-tab-{name}.png"))

    if viewport == PHONE:
        return  # the drawer covers the canvas; the rest is the same on a phone
    # A new saved version can be published again.
    page.get_by_role("tab", name="Settings").click()
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("bats")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")
    page.get_by_role("tab", name="API").click()
    expect(page.get_by_role("button", name="Publish v2")).to_be_visible()


def test_picker_icons_keep_their_size_and_checkboxes_sit_by_their_labels(page, site, tmp_path, artifacts):
    sign_up(page, site)
    import_example(page, site, tmp_path)
    canvas = page.locator("#canvas").bounding_box()
    page.mouse.click(canvas["x"] + canvas["width"] / 2, canvas["y"] + 60, button="right")
    page.get_by_role("menuitem", name="Add node…").click()
    icons = page.get_by_role("dialog", name="Add a node").locator(".palette__icon")
    expect(icons.first).to_be_visible()
    for box in icons.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert (round(box["width"]), round(box["height"])) == (20, 20)
    page.screenshot(path=str(artifacts / "editor-picker-icons.png"))
    page.keyboard.press("Escape")

    select_node(page, "text-1")
    checkbox = page.locator("#field-text-1-disabled").bounding_box()
    label = page.locator('label[for="field-text-1-disabled"]').bounding_box()
    field = page.locator('#node-settings .field[data-field="disabled"]').bounding_box()
    assert checkbox["x"] - field["x"] < 4  # at the start of its line, not centred in it
    assert 0 < label["x"] - (checkbox["x"] + checkbox["width"]) < 16  # the label right after it
    assert abs((checkbox["y"] + checkbox["height"] / 2) - (label["y"] + label["height"] / 2)) < 4


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_fit_keeps_nodes_clear_of_the_zoom_buttons_and_the_minimap(page, site, tmp_path, artifacts, viewport):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    import_example(page, site, tmp_path)
    page.get_by_role("button", name="Fit to view").click()
    overlays = [page.locator(".canvas__zoom").bounding_box(), page.locator("#minimap").bounding_box()]
    nodes = page.locator(".canvas .node")
    expect(nodes).to_have_count(4)
    for index in range(4):
        box = nodes.nth(index).bounding_box()
        assert not any(overlaps(box, overlay) for overlay in overlays), f"node {index} is under an overlay"
    name = "desktop" if viewport == DESKTOP else "phone"
    page.screenshot(path=str(artifacts / f"editor-fit-overlays-{name}.png"))


def test_copy_says_how_many_nodes_and_toasts_do_not_pile_up(page, site, tmp_path):
    sign_up(page, site)
    import_example(page, site, tmp_path)
    select_node(page, "text-1")
    page.locator("#canvas").focus()
    page.keyboard.press("Control+c")
    expect(page.locator("#canvas-message")).to_contain_text("Copied 1 node.")
    node(page, "prompt-1").locator(".node__header").click(modifiers=["Shift"])
    page.locator("#canvas").focus()
    page.keyboard.press("Control+c")
    expect(page.locator("#canvas-message")).to_contain_text("Copied 2 nodes.")

    for text in ["one", "two", "three"]:
        select_node(page, "text-1")
        page.locator("#field-text-1-text").fill(text)
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#save-state")).to_contain_text("Saved")
    expect(page.locator(".toast")).to_have_count(1)


def tiny_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 3), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_run_page_shows_an_image_result_as_an_image_not_its_reference(page, site, artifacts):
    sign_up(page, site)
    owner = User.objects.get(email="alice@example.com")
    upload = upload_create(owner=owner, data=tiny_png(), filename="dot.png")
    run = WorkflowRunFactory(owner=owner, status="succeeded", completed_at=timezone.now())
    reference = {"uploadId": str(upload.pk), "url": None}
    NodeResultFactory(run=run, node_id="image-1", node_type="image", output={"image": reference})
    page.goto(f"{site}/runs/{run.pk}/")
    row = page.locator('#node-rows tr[data-node="image-1"]')
    expect(row.locator("img.node__thumb")).to_have_js_property("naturalWidth", 4)
    expect(row).not_to_contain_text("uploadId")
    page.screenshot(path=str(artifacts / "run-page-image-result.png"))


def test_usage_says_an_empty_period_once(page, site):
    sign_up(page, site)
    page.goto(f"{site}/usage/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_text("No calls in this period.")).to_have_count(1)


def test_a_save_with_a_note_shows_the_note_in_the_versions_list(page, site, tmp_path, artifacts: Path):
    sign_up(page, site)
    import_example(page, site, tmp_path)
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("bats")
    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("button", name="Save with a note…").click()
    page.get_by_role("textbox", name="What changed").fill("Bats, not owls")
    page.keyboard.press("Enter")
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")
    items = page.locator("#version-list .version-item")
    expect(items).to_have_count(2)
    expect(items.first.locator(".version-item__note")).to_have_text("Bats, not owls")
    expect(items.nth(1).locator(".version-item__note")).to_have_count(0)
    page.screenshot(path=str(artifacts / "editor-version-note.png"))
