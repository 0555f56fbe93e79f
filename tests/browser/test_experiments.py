"""End to end in Chromium: upload a dataset, evaluate two versions from the Experiments page, compare them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.helpers import sign_up
from tests.graphs import edge, graph, node
from workflows.services import workflow_create, workflow_update

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CSV = "inputs.topic,expected.answer\ncats,echo: Answer: cats\ndogs,echo: Answer: dogs\n"


def answer_graph(template: str) -> dict[str, list]:
    return graph(
        [
            node("topic", "input", name="topic"),
            node("prompt", "prompt", template=template),
            node("ask", "llm", temperature=0),
            node("answer", "output", name="answer"),
        ],
        [
            edge("topic", "prompt", "value", "topic"),
            edge("prompt", "ask", "text", "prompt"),
            edge("ask", "answer", "text", "value"),
        ],
    )


def evaluate(page, version: int) -> None:
    page.locator("#experiment-version").fill(str(version))
    page.get_by_role("button", name="Evaluate", exact=True).click()
    expect(page.locator("#results-summary")).to_contain_text(f"Version {version}, succeeded: 2/2 rows done")


def test_upload_a_dataset_evaluate_two_versions_and_compare_them(
    page, site, llm, worker, tmp_path, artifacts
):
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    workflow = workflow_create(owner=alice, name="Answers", **answer_graph("Answer: {{topic}}"))
    workflow_update(
        workflow=workflow,
        name="Answers",
        description="",
        expected_version=1,
        saved_by=alice,
        **answer_graph("Shortly: {{topic}}"),
    )
    rows = tmp_path / "topics.csv"
    rows.write_text(CSV)

    # From the editor's Versions tab, "Evaluate" on version 1 opens the page with it chosen.
    page.goto(f"{site}/workflows/{workflow.pk}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("link", name="Evaluate version 1").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#experiment-version")).to_have_value("1")

    page.locator("#dataset-name").fill("Topics")
    page.get_by_label("Rows (CSV or JSONL)").set_input_files(str(rows))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#dataset-rows tr")).to_have_count(2)
    expect(page.locator("#dataset-rows")).to_contain_text("cats")

    page.get_by_role("button", name="Plan").click()
    expect(page.locator("#experiment-plan-text")).to_have_text(
        "2 runs, 2 model calls (0 results reused), 0 judge calls."
    )
    evaluate(page, 1)
    evaluate(page, 2)
    page.get_by_label("Failed rows only").check()
    expect(page.locator("#result-rows tr")).to_have_count(2)

    boxes = page.locator("#experiment-rows input[type=checkbox]")
    expect(boxes).to_have_count(2)
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Compare the two chosen").click()

    expect(page.locator("#compare-summary")).to_contain_text("v1 → v2")
    expect(page.locator("#compare-summary")).to_contain_text("exact: 0 improved, 2 regressed")
    expect(page.locator("#compare-rows tr.is-regressed")).to_have_count(2)
    expect(page.locator("#compare-diff")).to_contain_text(
        "prompt data.template: Answer: {{topic}} → Shortly: {{topic}}"
    )
    page.screenshot(path=str(artifacts / "experiments-compare.png"), full_page=True)
