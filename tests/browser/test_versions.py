"""End to end in Chromium: the editor's Versions tab lists saved versions, restores one after a confirm, and
shows what changed since one, marked on the canvas."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.helpers import select_node, sign_up, write_graph_file
from tests.graphs import edge, graph, node
from workflows.services import workflow_create, workflow_update

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def save_text(page, text: str, version: int) -> None:
    select_node(page, "text-1")
    page.locator("#field-text-1-text").fill(text)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text(f"Saved · version {version}")


def test_restored_version_is_loaded_saved_as_the_newest_and_kept_on_reload(page, site, tmp_path, artifacts):
    sign_up(page, site)
    # Imported, version 1 holds a Text node saying "owls".
    page.locator("#import-file").set_input_files(write_graph_file(tmp_path, "Owl facts"))
    page.get_by_role("link", name="Open").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    save_text(page, "hawks", 2)
    save_text(page, "eagles", 3)
    page.get_by_label("Workflow name").fill("Raptor facts")  # an unsaved change

    page.get_by_role("tab", name="Versions").click()
    items = page.locator("#version-list .version-item")
    expect(items).to_have_count(3)
    assert items.evaluate_all("els => els.map(e => e.dataset.version)") == ["3", "2", "1"]
    expect(items.first).to_contain_text("current")
    expect(items.first.get_by_role("button")).to_have_count(0)
    expect(items.nth(2)).to_contain_text("Owl facts")
    expect(items.nth(2)).to_contain_text("alice@example.com")

    # Escape in the confirm changes nothing.
    page.get_by_role("button", name="Restore version 1").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Your unsaved changes will be lost.")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")

    # From the keyboard: Enter on the Restore button, then on the dialog's Restore.
    page.get_by_role("button", name="Restore version 1").focus()
    page.keyboard.press("Enter")
    dialog.get_by_role("button", name="Restore").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#save-state")).to_have_text("Saved · version 4")
    expect(page.get_by_label("Workflow name")).to_have_value("Owl facts (imported)")
    # The list follows: the restored graph is the new current version.
    expect(items).to_have_count(4)
    expect(items.first).to_have_attribute("data-version", "4")
    expect(items.first).to_contain_text("current")
    expect(items.first).to_contain_text("Owl facts")
    page.screenshot(path=str(artifacts / "editor-versions.png"))
    page.get_by_role("tab", name="Settings").click()
    select_node(page, "text-1")
    expect(page.locator("#field-text-1-text")).to_have_value("owls")
    expect(page.locator("#save-state")).to_have_text("Saved · version 4")

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#save-state")).to_have_text("Saved · version 4")
    expect(page.get_by_label("Workflow name")).to_have_value("Owl facts (imported)")
    select_node(page, "text-1")
    expect(page.locator("#field-text-1-text")).to_have_value("owls")


def test_changes_since_a_version_are_listed_and_marked_on_the_canvas_until_closed(page, site, artifacts):
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    first = graph(
        [
            node("topic", "input", name="topic"),
            node("prompt", "prompt", template="Answer: {{topic}}", position=(300, 0)),
        ],
        [edge("topic", "prompt", "value", "topic")],
    )
    workflow = workflow_create(owner=alice, name="Answers", **first)
    second = graph(
        [
            node("topic", "input", name="topic"),
            node("prompt", "prompt", template="Briefly: {{topic}}", position=(300, 0)),
            node("answer", "output", name="answer", position=(600, 0)),
        ],
        [edge("topic", "prompt", "value", "topic"), edge("prompt", "answer", "text", "value")],
    )
    workflow_update(
        workflow=workflow, name="Answers", description="", expected_version=1, saved_by=alice, **second
    )
    page.goto(f"{site}/workflows/{workflow.pk}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    prompt, added, unchanged = (page.locator(f'.node[data-id="{i}"]') for i in ("prompt", "answer", "topic"))

    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("button", name="Changes since version 1").click()

    diff = page.get_by_role("region", name="Changes from version 1 to version 2")
    expect(diff).to_contain_text("Changed Prompt prompt: data.template")
    expect(diff).to_contain_text("Added Output answer (output)")
    expect(diff).to_contain_text("Connected Prompt prompt → Output answer")
    expect(prompt).to_have_class(re.compile(r"\bis-diff-changed\b"))
    expect(added).to_have_class(re.compile(r"\bis-diff-added\b"))
    expect(unchanged).not_to_have_class(re.compile(r"\bis-diff-"))
    page.screenshot(path=str(artifacts / "editor-version-changes.png"))

    diff.get_by_role("button", name="Close").click()
    expect(diff).to_have_count(0)
    expect(prompt).not_to_have_class(re.compile(r"\bis-diff-"))
    expect(added).not_to_have_class(re.compile(r"\bis-diff-"))
