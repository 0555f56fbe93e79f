"""The New workflow gallery at 1440x900 and on a 390x844 phone: a blank canvas, or a template's copy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEMPLATE_CARDS = [
    "blank",
    "summarize-a-page",
    "classify-and-route",
    "extract-json",
    "describe-an-image",
    "map-over-a-list",
]


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_new_workflow_offers_the_gallery_and_opens_a_copy_of_the_template(
    page, site, artifacts, size, viewport
):
    page.set_viewport_size(viewport)
    sign_up(page, site)

    page.get_by_role("button", name="New workflow").click()

    gallery = page.get_by_role("dialog", name="New workflow")
    cards = gallery.locator(".gallery__card")
    expect(cards).to_have_count(len(TEMPLATE_CARDS))
    assert cards.evaluate_all("cards => cards.map((card) => card.dataset.template)") == TEMPLATE_CARDS
    expect(gallery.locator("[data-template=map-over-a-list]")).to_contain_text("Translate one line")
    box = gallery.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    page.screenshot(path=str(artifacts / f"gallery-{size}.png"))

    gallery.locator("[data-template=classify-and-route]").click()

    expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}/$"))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator(".node")).to_have_count(9)
    expect(node(page, "is-complaint")).to_be_attached()
    page.screenshot(path=str(artifacts / f"gallery-copy-{size}.png"))

    page.goto(f"{site}/workflows/")
    expect(page.locator("#workflow-list")).to_contain_text("Classify and route")


def test_a_blank_workflow_still_asks_for_its_name(page, site):
    sign_up(page, site)

    page.get_by_role("button", name="New workflow").click()
    page.locator("[data-template=blank]").click()
    page.get_by_role("textbox", name="Name").fill("From scratch")
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}/$"))
    expect(page.locator(".node")).to_have_count(0)
