"""End to end in Chromium: the run page and the editor show an LLM answer as it is generated (the run page in
a box that scrolls rather than grows), and the node's result once it has finished."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from accounts.models import User
from runs.driving import run_execute
from runs.services import run_create
from tests.browser.helpers import node as canvas_node
from tests.browser.helpers import sign_up, write_graph_file
from tests.graphs import edge, node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORDS = " ".join(f"word{i}" for i in range(400))


def test_the_run_page_streams_an_answer_into_a_scrolling_box_then_shows_the_result(page, site, llm):
    llm.chunk_delay_s = 0.03  # 400 words: about 12 s of streaming
    sign_up(page, site)
    owner = User.objects.get(email="alice@example.com")
    graph = {
        "nodes": [node("a", "text", text=WORDS), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run = run_create(owner=owner, graph=graph, enqueue=False)
    page.goto(f"{site}/runs/{run.id}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    def execute() -> None:
        try:
            run_execute(run_id=str(run.id))
        finally:
            connection.close()

    runner = threading.Thread(target=execute)
    runner.start()
    try:
        box = page.locator("#live-rows [data-node='b'] .output--live")
        expect(box).to_contain_text("echo: word0 word1")
        expect(box).to_contain_text("word250")  # many lines by now, and still streaming (to word399)
        assert page.locator("#node-rows [data-node='b']").count() == 0
        heights = box.evaluate("(el) => [el.clientHeight, el.scrollHeight]")
        assert heights[1] > heights[0]  # the text overflows the box, which scrolls instead of growing
        assert box.evaluate("(el) => el.scrollTop") > 0  # kept at the newest text
    finally:
        runner.join(60)

    expect(page.locator("#node-rows [data-node='b']")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#live-nodes")).to_be_hidden()
    expect(page.locator("#node-rows [data-node='b'] .output")).to_contain_text("echo: word0 word1")


def test_the_editor_shows_an_answer_in_its_node_as_it_is_generated(page, site, llm, worker, tmp_path):
    llm.chunk_delay_s = 0.03
    sign_up(page, site)
    page.locator("#import-file").set_input_files(
        write_graph_file(tmp_path, "Owls", template=WORDS + " {{topic}}")
    )
    page.get_by_role("link", name="Open").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")

    page.get_by_role("button", name="▶ Run").click()

    answer = canvas_node(page, "llm-1")
    expect(answer.locator(".node__output")).to_contain_text("echo: word0 word1")
    expect(answer).to_have_class(re.compile(r"\bstatus-running\b"))  # still being generated
    expect(answer).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=30_000)
    expect(answer.locator(".node__meta")).to_contain_text("402 out tokens")
    expect(canvas_node(page, "debug-1")).to_have_class(re.compile(r"\bstatus-succeeded\b"))
