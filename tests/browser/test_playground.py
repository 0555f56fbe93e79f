"""The editor's Playground at 1440x900 and on a 390x844 phone: each message runs the workflow, the answer
streams in, the earlier turns reach the `history` input, and each turn links its run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.helpers import DESKTOP, PHONE, sign_up
from tests.graphs import edge, node
from workflows.services import workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG_MESSAGE = " ".join(f"word{i}" for i in range(40))


def chat_graph() -> dict[str, list]:
    nodes = [
        node("message", "input", position=(0, 0), name="message", type="text"),
        node("history", "input", position=(0, 200), name="history", type="text", required=False),
        node("ask", "prompt", position=(300, 0), template="{{history}}\nUser: {{message}}"),
        node("chat", "llm", position=(600, 0)),
        node("reply", "output", position=(900, 0), name="reply"),
    ]
    edges = [
        edge("message", "ask", "value", "message"),
        edge("history", "ask", "value", "history"),
        edge("ask", "chat", "text", "prompt"),
        edge("chat", "reply", "text", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_playground_chats_with_the_workflow_passing_the_history(
    page, site, llm, worker, artifacts, size, viewport
):
    llm.chunk_delay_s = 0.05  # about 2 s of streaming for the long message
    page.set_viewport_size(viewport)
    sign_up(page, site)
    workflow = workflow_create(owner=User.objects.get(email="alice@example.com"), name="Chat", **chat_graph())
    page.goto(f"{site}/workflows/{workflow.pk}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    if viewport is PHONE:  # on a phone it is in the toolbar's overflow menu
        page.get_by_role("button", name="More actions").click()
        page.get_by_role("menuitem", name="Playground").click()
    else:
        page.locator("#open-playground").click()
    playground = page.locator("#playground")
    expect(playground).to_be_visible()
    expect(playground.locator(".playground__about")).to_contain_text("Input “message” gets it")
    box = playground.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= viewport["width"]

    playground.get_by_role("textbox", name="Message").fill(f"first {LONG_MESSAGE}")
    playground.get_by_role("textbox", name="Message").press("Enter")

    first = playground.locator(".playground__turn").nth(0)
    # Streamed: the answer shows while its run is still running.
    expect(first.locator(".playground__answer")).to_contain_text("echo:")
    expect(first).to_have_attribute("data-status", "running")
    expect(first).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(first.locator(".playground__answer")).to_contain_text("word39")
    expect(first.get_by_role("link", name="Run ↗")).to_have_attribute(
        "href", re.compile(r"^/runs/[0-9a-f-]{36}/$")
    )

    playground.get_by_role("textbox", name="Message").fill("second")
    playground.get_by_role("button", name="Send").click()

    second = playground.locator(".playground__turn").nth(1)
    expect(second).to_have_attribute("data-status", "succeeded", timeout=30_000)
    # The model saw the first turn, as the history input passed it.
    expect(second.locator(".playground__answer")).to_contain_text("User: first word0")
    expect(second.locator(".playground__answer")).to_contain_text("Assistant: echo:")
    expect(second.locator(".playground__answer")).to_contain_text("User: second")
    runs = first.get_by_role("link").get_attribute("href"), second.get_by_role("link").get_attribute("href")
    assert runs[0] != runs[1]
    page.screenshot(path=str(artifacts / f"playground-{size}.png"))


def test_the_playground_says_what_a_workflow_without_an_input_lacks(page, site):
    sign_up(page, site)
    owner = User.objects.get(email="alice@example.com")
    graph = {
        "nodes": [node("t", "text", text="hi"), node("d", "debug")],
        "edges": [edge("t", "d", "text", "value")],
    }
    workflow = workflow_create(owner=owner, name="No chat", **graph)
    page.goto(f"{site}/workflows/{workflow.pk}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    page.locator("#open-playground").click()

    expect(page.locator(".playground__about")).to_have_text(
        "The Playground needs a text Input node to receive each message."
    )
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
