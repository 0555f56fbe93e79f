"""End to end in Chromium: classify (LLM -> JSON) -> Condition -> two branches -> Merge -> Debug, built in the
editor as a user would (palette, port drags, the settings form's rule rows and JSON Schema box), saved, and
run both ways; the branch not taken is dimmed on the canvas and the run page with its reason."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import connect, create_workflow, drop_kind, node, select_node, sign_up
from tests.fakes.llm_server import prompt_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLASSIFY_SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["spam", "ham"]}},
    "required": ["label"],
}


def classify(provider: str, body: object) -> str:
    """The fake model's structured answer: spam for a message that shouts about prizes, else ham."""
    return json.dumps({"label": "spam" if "PRIZE" in prompt_text(provider, body) else "ham"})


def save(page, version: int) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(f"Saved · version {version}")


def run_and_wait(page) -> None:
    # The last run's toast would otherwise pass for this run's end.
    expect(page.locator(".toast--success")).to_have_count(0, timeout=15_000)
    page.get_by_role("button", name="▶ Run").click()
    expect(page.locator(".toast--success", has_text="Run succeeded")).to_be_visible(timeout=20_000)


def expect_taken(page, taken: str, not_taken: str, answer: str) -> None:
    expect(node(page, taken)).to_have_class(re.compile(r"\bstatus-succeeded\b"))
    expect(node(page, "debug-1").locator(".node__output")).to_contain_text(answer)
    skipped = node(page, not_taken)
    expect(skipped).to_have_class(re.compile(r"\bstatus-skipped\b"))
    badge = skipped.locator(".node__skip")
    expect(badge).to_have_text("Skipped: branch not taken")
    expect(badge).to_have_attribute("title", re.compile(r"was not taken"))
    expect(page.locator(f'.edge.is-unused[data-id$="-{not_taken}.x"]')).to_have_count(1)
    expect(skipped).to_have_css("opacity", re.compile(r"^0(\.\d+)?$"))  # the branch not taken is dimmed


def test_classify_route_and_merge_built_in_the_editor_runs_both_ways(page, site, llm, worker, artifacts):
    llm.reply = classify
    sign_up(page, site)
    create_workflow(page, "Spam filter")

    layout = [
        ("text", 20, 30),
        ("llm", 275, 30),
        ("condition", 530, 30),
        ("prompt", 20, 330),
        ("prompt", 275, 330),
        ("merge", 530, 330),
        ("debug", 530, 520),
    ]
    for kind, x, y in layout:
        page.locator(f'.palette__item[data-kind="{kind}"]').scroll_into_view_if_needed()
        drop_kind(page, kind, x, y)
    expect(page.locator(".canvas .node")).to_have_count(len(layout))

    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("WIN A PRIZE NOW")
    select_node(page, "prompt-1")
    page.locator("#field-prompt-1-template").fill("SPAM: {{x}}")
    select_node(page, "prompt-2")
    page.locator("#field-prompt-2-template").fill("HAM: {{x}}")

    # The JSON Schema box: bad JSON is said inline and stored nowhere; a good schema adds the json output.
    select_node(page, "llm-1")
    schema_box = page.locator("#field-llm-1-jsonSchema")
    expect(schema_box).to_have_value("")
    expect(node(page, "llm-1").locator('.port--out[data-port="json"]')).to_have_count(0)
    schema_box.fill('{"type": "object",')
    expect(page.locator("#field-llm-1-jsonSchema-error")).to_contain_text("is not JSON")
    expect(schema_box).to_have_attribute("aria-invalid", "true")
    expect(node(page, "llm-1").locator('.port--out[data-port="json"]')).to_have_count(0)
    schema_box.fill(json.dumps(CLASSIFY_SCHEMA, indent=2))
    expect(page.locator("#field-llm-1-jsonSchema-error")).to_be_empty()
    expect(node(page, "llm-1").locator('.port--out[data-port="json"]')).to_have_count(1)

    # The Condition's two outputs are labelled on the canvas.
    outputs = node(page, "condition-1").locator(".port-label--out")
    expect(outputs).to_have_text(["true", "false"])

    connect(page, "text-1", "text", "llm-1", "prompt")
    connect(page, "llm-1", "json", "condition-1", "value")
    connect(page, "condition-1", "true", "prompt-1", "x")
    connect(page, "condition-1", "false", "prompt-2", "x")
    connect(page, "prompt-1", "text", "merge-1", "values")
    connect(page, "prompt-2", "text", "merge-1", "values")
    connect(page, "merge-1", "value", "debug-1", "value")
    expect(page.locator(".edge")).to_have_count(7)

    # A rule row per rule. A first try the server refuses to run shows its message on that row's field.
    select_node(page, "condition-1")
    page.get_by_role("button", name="Add rule").click()
    rule = page.locator('#field-condition-1-rules .rows__row[data-index="0"]')
    rule.get_by_label("Operator").select_option("greater_than")
    rule.get_by_label("Value").fill("spam")
    page.expected_statuses.add(400)
    page.get_by_role("button", name="▶ Run").click()
    expect(rule.locator(".rows__error")).to_contain_text("Value: must be a number for greater_than")
    expect(rule.get_by_label("Value")).to_have_attribute("aria-invalid", "true")
    rule.get_by_label("Operator").select_option("equals")
    expect(rule.locator(".rows__error")).to_be_empty()
    rule.get_by_label("Path").fill("$.label")
    # A second rule, removed again: rows come and go.
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#field-condition-1-rules .rows__row")).to_have_count(2)
    page.get_by_role("button", name="Remove rule 2").click()
    expect(page.locator("#field-condition-1-rules .rows__row")).to_have_count(1)
    expect(node(page, "condition-1")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    page.screenshot(path=str(artifacts / "control-flow-rules.png"))
    save(page, 2)

    # What was saved is what the widgets showed.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    select_node(page, "condition-1")
    rule = page.locator('#field-condition-1-rules .rows__row[data-index="0"]')
    expect(rule.get_by_label("Operator")).to_have_value("equals")
    expect(rule.get_by_label("Value")).to_have_value("spam")
    expect(rule.get_by_label("Path")).to_have_value("$.label")
    expect(rule.get_by_label("Not")).not_to_be_checked()
    select_node(page, "llm-1")
    assert json.loads(page.locator("#field-llm-1-jsonSchema").input_value()) == CLASSIFY_SCHEMA

    # Spam: the true branch runs, the false one is skipped as a branch not taken.
    run_and_wait(page)
    expect_taken(page, "prompt-1", "prompt-2", 'SPAM: {"label"')
    page.screenshot(path=str(artifacts / "control-flow-spam.png"))

    # Ham: the other way round.
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill("Lunch at noon?")
    save(page, 3)
    run_and_wait(page)
    expect_taken(page, "prompt-2", "prompt-1", 'HAM: {"label"')
    page.screenshot(path=str(artifacts / "control-flow-ham.png"))
    assert len(llm.requests) == 2

    # The run page says why the branch was skipped.
    page.locator("#run-banner").get_by_role("link", name="Open run page").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    row = page.locator('#node-rows tr[data-node="prompt-1"]')
    expect(row).to_have_attribute("data-status", "skipped")
    expect(row.locator(".output--skipped")).to_contain_text("Skipped (branch not taken)")
