"""End to end in Chromium: a run's results never push nodes over their neighbours (issue 29, point 1).

The example workflows (`seed_demo`) run as laid out and after Arrange, on a desktop and on a phone; no two
node rectangles overlap afterwards, and a node's size is the same before and after its run."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.helpers import DESKTOP, PHONE
from workflows.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD, DEMO_EMAIL, DEMOS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Long enough to fill any preview many times over: a node that grew with its result would show it.
LONG_ANSWER = "spam " + "and a very long answer that goes on " * 60


def classify_or_ramble(provider: str, body: object) -> str:
    """Sort the mail's Classify asks for JSON; any other call gets a long answer."""
    asks_for_json = "json" in str(body).lower()
    return '{"label": "spam"}' if asks_for_json else LONG_ANSWER


def log_in_as_demo(page: Page, site: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.fill("input[name=login]", DEMO_EMAIL)
    page.fill("input[name=password]", DEFAULT_DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{site}/workflows/")


def node_boxes(page: Page) -> dict[str, dict]:
    boxes = page.locator(".canvas .node").evaluate_all(
        "els => els.map(e => [e.dataset.id, e.getBoundingClientRect().toJSON()])"
    )
    return dict(boxes)


def overlapping_pairs(boxes: dict[str, dict]) -> list[tuple[str, str]]:
    ids = sorted(boxes)
    pairs = []
    for index, a_id in enumerate(ids):
        for b_id in ids[index + 1 :]:
            a, b = boxes[a_id], boxes[b_id]
            apart = (
                a["right"] <= b["left"]
                or b["right"] <= a["left"]
                or a["bottom"] <= b["top"]
                or b["bottom"] <= a["top"]
            )
            if not apart:
                pairs.append((a_id, b_id))
    return pairs


def sizes(boxes: dict[str, dict]) -> dict[str, tuple[int, int]]:
    return {node_id: (round(box["width"]), round(box["height"])) for node_id, box in boxes.items()}


def run_and_wait(page: Page) -> None:
    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator("#run-banner .badge")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator(".canvas .node.status-running, .canvas .node.status-queued")).to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("arrange", [False, True], ids=["as-laid-out", "arranged"])
def test_no_two_nodes_of_the_examples_overlap_after_a_run(
    page, site, llm, worker, artifacts, viewport, arrange
):
    call_command("seed_demo", verbosity=0)
    llm.reply = classify_or_ramble
    page.set_viewport_size(viewport)
    log_in_as_demo(page, site)
    for name in DEMOS:
        page.goto(f"{site}/workflows/")
        page.locator(".card", has_text=name).locator(".card__title a").click()
        expect(page).to_have_url(re.compile(r"/workflows/[0-9a-f-]{36}/$"))
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        if arrange and page.get_by_role("button", name="More actions").is_visible():  # a phone's toolbar
            page.get_by_role("button", name="More actions").click()
            page.get_by_role("menuitem", name="Arrange").click()
        elif arrange:
            page.get_by_role("button", name="Arrange").click()
        before = node_boxes(page)
        assert overlapping_pairs(before) == []

        run_and_wait(page)

        after = node_boxes(page)
        assert overlapping_pairs(after) == [], f"{name}: overlapping after the run"
        assert sizes(after) == sizes(before), f"{name}: a result changed a node's size"
        slug = f"{name.lower().replace(' ', '-')}-{'arranged' if arrange else 'laid-out'}-{viewport['width']}"
        page.screenshot(path=str(artifacts / f"footprint-{slug}.png"))
