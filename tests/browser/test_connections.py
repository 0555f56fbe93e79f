"""End to end in Chromium: add an OpenAI-compatible connection on the settings page, test it, pick its model
in an LLM node's chain, run, and see the answer streamed from that server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import import_example, select_node, sign_up
from tests.browser.helpers import node as canvas_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET = "sk-browser-secret-7d1e"
WORDS = " ".join(f"word{i}" for i in range(60))


def test_a_connection_added_and_tested_answers_a_node_that_picks_its_model(
    page, site, llm, settings, worker, tmp_path
):
    settings.PROVIDER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    sign_up(page, site)
    page.goto(f"{site}/settings/connections/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.fill("#connection-name", "My server")
    page.fill("#connection-slug", "local")
    page.select_option("#connection-kind", "openai")
    page.fill("#connection-url", llm.openai_url)
    page.fill("#connection-secret", SECRET)
    page.get_by_role("button", name="Add connection").click()
    row = page.locator("#connection-rows tr[data-slug='local']")
    expect(row).to_contain_text("…7d1e")
    assert SECRET not in page.content()
    row.get_by_role("button", name="Test My server").click()
    expect(row.locator(".connection__status")).to_have_text("✓ Connected: 2 models available.")

    import_example(page, site, tmp_path)
    select_node(page, "llm-1")
    chain = page.locator("#field-llm-1-models")
    expect(canvas_node(page, "llm-1").locator(".node__summary")).to_contain_text("Default models")
    expect(chain.locator("input")).to_have_count(0)  # none named: the deployment's default chain
    page.get_by_role("button", name="Add model").click()
    expect(page.locator("#field-llm-1-models-suggestions option[value='local/fake-chat']")).to_have_count(1)
    chain.locator("input").first.fill("local/fake-chat")
    chain.locator("input").first.press("Tab")
    expect(canvas_node(page, "llm-1").locator(".node__summary")).to_contain_text("local/fake-chat")
    llm.chunk_delay_s = 0.05
    llm.reply = lambda provider, body: f"{provider}: {WORDS}"

    page.get_by_role("button", name="▶ Run").click()

    answer = canvas_node(page, "llm-1")
    expect(answer.locator(".node__output")).to_contain_text("openai: word0 word1")
    expect(answer).to_have_class(re.compile(r"\bstatus-running\b"))  # still being generated
    expect(answer).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=30_000)
    expect(answer.locator(".node__output")).to_contain_text("word59")
    chat = [request for request in llm.requests if request.path == "/v1/chat/completions"]
    assert [request.body["model"] for request in chat] == ["fake-chat"]
    assert chat[0].headers["authorization"] == f"Bearer {SECRET}"


def test_models_answered_after_a_node_is_open_are_offered_in_its_chain(page, site, llm, tmp_path):
    held = []
    page.route("**/api/models", lambda route: held.append(route))  # answered only once the node is open
    sign_up(page, site)
    import_example(page, site, tmp_path)
    select_node(page, "llm-1")
    page.get_by_role("button", name="Add model").click()
    suggestions = page.locator("#field-llm-1-models-suggestions option")
    expect(suggestions).to_have_count(0)

    held[0].continue_()

    expect(suggestions.first).to_have_attribute("value", re.compile(r".+/.+"))
