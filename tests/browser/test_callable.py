"""End to end in Chromium: a workflow with Input and Output nodes, run with the Run form, published, and
run from outside with the API tab's curl example; its outputs show on the run page."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import api_token_create
from tests.browser.helpers import connect, create_workflow, drop_kind, node, select_node, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def save(page, version: int) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(f"Saved · version {version}")


def test_inputs_outputs_publish_and_the_curl_example(page, site, worker, artifacts):
    sign_up(page, site)
    workflow_id = create_workflow(page, "Writer")

    # Input -> Prompt -> Output; new Input and Output nodes come with names of their own.
    for kind, x, y in [("input", 60, 80), ("prompt", 360, 80), ("output", 360, 360)]:
        # Output comes last in a palette taller than the window.
        page.locator(f'.palette__item[data-kind="{kind}"]').scroll_into_view_if_needed()
        drop_kind(page, kind, x, y)
    select_node(page, "input-1")
    expect(page.locator("#field-input-1-name")).to_have_value("input_1")
    page.locator("#field-input-1-name").fill("topic")
    select_node(page, "prompt-1")
    page.locator("#field-prompt-1-template").fill("Write about {{topic}}")
    select_node(page, "output-1")
    expect(page.locator("#field-output-1-name")).to_have_value("output_1")
    page.locator("#field-output-1-name").fill("answer")
    connect(page, "input-1", "value", "prompt-1", "topic")
    connect(page, "prompt-1", "text", "output-1", "value")
    expect(page.locator(".edge")).to_have_count(2)
    expect(node(page, "output-1")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    save(page, 2)

    # Run asks for the inputs, and remembers them for next time.
    page.get_by_role("button", name="▶ Run").click()
    form = page.locator("#run-form")
    form.get_by_label("topic").fill("owls")
    form.get_by_role("button", name="▶ Run").click()
    expect(page.locator(".toast--success", has_text="Run succeeded")).to_be_visible()
    page.get_by_role("button", name="▶ Run").click()
    expect(form.get_by_label("topic")).to_have_value("owls")
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_have_count(0)

    # Publish from the API tab; later edits show as "editing".
    expect(page.locator("#publish-state")).to_have_text("Not published")
    page.get_by_role("tab", name="API").click()
    page.get_by_role("button", name="Publish v2").click()
    expect(page.locator("#publish-state")).to_have_text("Published: v2")
    select_node(page, "prompt-1")
    page.get_by_role("tab", name="Settings").click()
    page.locator("#field-prompt-1-template").fill("Edited: {{topic}}")
    save(page, 3)
    expect(page.locator("#publish-state")).to_have_text("Published: v2 (editing v3)")

    # Copy the curl example and run it with a token: the published v2 answers, with its outputs.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page.get_by_role("tab", name="API").click()
    page.get_by_role("button", name="Copy").click()
    command = page.evaluate("navigator.clipboard.readText()")
    assert command == page.locator("#api-curl").inner_text()
    assert f"/api/workflows/{workflow_id}/runs" in command
    page.screenshot(path=str(artifacts / "editor-api-tab.png"))
    token = api_token_create(owner=User.objects.get(email="alice@example.com"), name="curl").secret
    done = subprocess.run(
        ["bash", "-c", command.replace("<topic>", "otters")],
        env={**os.environ, "WEFT_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
    )
    answer = json.loads(done.stdout)
    assert (answer["status"], answer["outputs"]) == ("succeeded", {"answer": "Write about otters"}), done

    # The run page shows what went in and what came out.
    page.goto(f"{site}/runs/{answer['runId']}/")
    expect(page.locator("body")).to_have_attribute("data-status", "succeeded")
    expect(page.locator('#run-inputs pre[data-name="topic"]')).to_have_text("otters")
    expect(page.locator('#run-outputs pre[data-name="answer"]')).to_have_text("Write about otters")
    expect(page.locator("#run-facts")).to_contain_text("api")
    page.screenshot(path=str(artifacts / "run-outputs.png"))
