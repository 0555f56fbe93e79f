"""End to end in Chromium: a failing node skips what depends on it, Cancel stops a run, the runs pages, and
the download of an output the run detail cut."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    connect,
    drop_kind,
    import_example,
    node,
    select_node,
    sign_up,
    write_graph_file,
)
from tests.factories import NodeResultFactory, WorkflowRunFactory
from tests.graphs import text_to_debug_graph
from uploads.images import ALLOWED_CONTENT_TYPES

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tiny_png(folder: Path) -> Path:
    from PIL import Image

    path = folder / "dot.png"
    Image.new("RGB", (4, 3), (200, 40, 40)).save(path)
    return path


def status(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bstatus-{name}\b")


def test_failing_node_skips_downstream_cancel_and_run_list(page, site, llm, worker, artifacts, tmp_path):
    sign_up(page, site)
    page.locator("#import-file").set_input_files(write_graph_file(tmp_path, "Imported owls"))
    expect(page.locator(".card")).to_have_count(1)
    page.get_by_role("link", name="Open").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator(".canvas .node")).to_have_count(4)

    # A half-built workflow saves as a draft; running it is refused, and the server's validation errors
    # land on the node and on the field: an Image node needs an image.
    drop_kind(page, "image", 80, 600)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")
    page.expected_statuses.add(400)
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "image-1")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(node(page, "image-1").locator(".node__error")).to_contain_text("choose an uploaded image")
    expect(page.locator("#field-image-1-uploadId-error")).to_contain_text("choose an uploaded image")
    # Uploading one fixes it; connected to the LLM, it runs and its output shows as a thumbnail.
    upload = page.get_by_label("Upload an image")
    expect(upload).to_have_attribute("accept", ",".join(ALLOWED_CONTENT_TYPES))
    upload.set_input_files(tiny_png(tmp_path))
    expect(node(page, "image-1")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    connect(page, "image-1", "image", "llm-1", "images")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 3")
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "debug-1")).to_have_class(status("succeeded"), timeout=20_000)
    expect(node(page, "image-1").locator("img.node__thumb")).to_be_visible()
    expect(node(page, "image-1").locator("img.node__thumb")).to_have_js_property("naturalWidth", 4)
    assert "inlineData" in json.dumps(llm.requests[-1].body)

    # The model refuses: the LLM node fails, Debug after it is skipped, the nodes before it succeeded.
    llm.fail_next("gemini", status=400)
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "llm-1")).to_have_class(status("failed"), timeout=20_000)
    expect(node(page, "debug-1")).to_have_class(status("skipped"))
    # Unchanged since the last run, the Text and Prompt nodes took their earlier results.
    expect(node(page, "text-1")).to_have_class(status("reused"))
    expect(node(page, "prompt-1")).to_have_class(status("reused"))
    expect(node(page, "llm-1").locator(".node__output--error")).not_to_be_empty()
    expect(page.locator("#run-banner")).to_contain_text("failed")
    page.screenshot(path=str(artifacts / "editor-failed-run.png"))

    # Run just the Prompt node: only it and what it needs run.
    select_node(page, "prompt-1")
    page.get_by_role("button", name="Run selected").click()
    expect(page.locator("#run-banner .badge")).to_have_text("succeeded", timeout=20_000)
    expect(node(page, "prompt-1")).to_have_class(status("succeeded"))
    expect(node(page, "llm-1")).not_to_have_class(re.compile(r"\bstatus-"))

    # Run a selection of two nodes (Shift adds to the selection).
    select_node(page, "text-1")
    node(page, "prompt-1").locator(".node__header").click(modifiers=["Shift"])
    page.get_by_role("button", name="Run 2 selected").click()
    expect(page.locator("#run-banner .badge")).to_have_text("succeeded", timeout=20_000)
    expect(page.locator("#run-banner")).to_contain_text("2 ran")

    # A model call that hangs: the LLM node shows running, Cancel ends the run.
    llm.hang_s = 8
    llm.fail_next("gemini", status="hang")
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "llm-1")).to_have_class(status("running"), timeout=20_000)
    expect(node(page, "debug-1")).to_have_class(status("queued"))
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#run-banner .badge")).to_have_text("cancelled", timeout=20_000)
    expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
    llm.reset()  # let the abandoned model call return at once

    # The run history panel: opening a past run paints its results on the canvas.
    page.get_by_role("tab", name="Runs").click()
    expect(page.locator("#run-history .run-item")).to_have_count(5)
    page.locator("#run-history .run-item").filter(has_text="failed").locator(".run-item__open").click()
    expect(node(page, "llm-1")).to_have_class(status("failed"))
    expect(node(page, "debug-1")).to_have_class(status("skipped"))

    # The runs page: all runs, filtered by status, each linking to its page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page.locator("#run-rows tr")).to_have_count(5)
    page.goto(f"{site}/runs/?limit=2")
    expect(page.locator("#pager")).to_contain_text("Page 1 of 3 · 5 runs")
    page.get_by_role("button", name="Older →").click()
    expect(page.locator("#pager")).to_contain_text("Page 2 of 3")
    expect(page).to_have_url(re.compile(r"\?page=2&limit=2$"))
    expect(page.locator("#run-rows tr")).to_have_count(2)
    page.goto(f"{site}/runs/")
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("#run-rows tr .badge")).to_have_text(["failed"])
    expect(page).to_have_url(re.compile(r"\?status=failed$"))
    page.get_by_label("Status").select_option("cancelled")
    expect(page.locator("#run-rows tr .badge")).to_have_text(["cancelled"])
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("#run-rows tr .badge")).to_have_text(["failed"])
    page.locator("#run-rows tr").first.get_by_role("link").first.click()
    expect(page.locator("body")).to_have_attribute("data-status", "failed")
    expect(page.locator("#node-rows tr[data-status=failed]")).to_have_count(1)
    expect(page.locator("#node-rows tr[data-status=skipped]")).to_have_count(1)
    expect(page.locator('#node-rows tr[data-node="llm-1"] .output--error')).not_to_be_empty()
    page.screenshot(path=str(artifacts / "run-page-failed.png"), full_page=True)


def test_an_output_the_run_detail_cut_links_to_its_whole_download(page, site):
    sign_up(page, site)
    run = WorkflowRunFactory(
        owner=User.objects.get(email="alice@example.com"), status="succeeded", completed_at=timezone.now()
    )
    NodeResultFactory(run=run, node_id="text-1", output={"text": "w" * 9_000})

    page.goto(f"{site}/runs/{run.id}/")

    row = page.locator('[data-node="text-1"]')
    expect(row).to_contain_text("Cut to fit: the whole output is 9,011 bytes.")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download it").click()
    assert json.loads(Path(download.value.path()).read_text()) == {"text": "w" * 9_000}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_text_the_run_page_cuts_short_has_the_whole_of_it_as_a_tooltip(page, site, viewport, artifacts):
    page.set_viewport_size(viewport)
    sign_up(page, site)
    label = "Summarise the quarterly owl population survey for every forest district " * 3
    model = "gemini-2.5-flash-preview-with-a-very-long-experimental-model-name-0925"
    g = text_to_debug_graph()
    g["nodes"][0]["data"]["label"] = label
    owner = User.objects.get(email="alice@example.com")
    run = WorkflowRunFactory(
        owner=owner,
        workflow=None,
        nodes=g["nodes"],
        edges=g["edges"],
        status="succeeded",
        completed_at=timezone.now(),
    )
    NodeResultFactory(
        run=run, node_id="text-1", provider="gemini", model=model, started_at=timezone.now(), duration_ms=40
    )

    page.goto(f"{site}/runs/{run.id}/")
    row = page.locator('[data-node="text-1"]')
    expect(row).to_be_visible()
    page.screenshot(path=str(artifacts / f"run-tooltips-{viewport['width']}.png"), full_page=True)

    whole_name = label.strip()  # the name people read; the id stays in the row's data-node
    name = row.locator("th .clip").first
    expect(name).to_have_attribute("title", whole_name)
    expect(row.locator("td .clip")).to_have_attribute("title", f"gemini / {model}")
    expect(page.locator(".timeline__label")).to_have_attribute("title", whole_name)
    # The name is cut on both screens, and every cut text carries the whole of it.
    assert name.evaluate("el => el.scrollWidth > el.clientWidth")
    cut = page.locator(".clip, .clip-head, .timeline__label").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => [e.title, e.textContent])"
    )
    assert cut
    assert all(title == text for title, text in cut), cut
    # Nothing in the table is cut without a tooltip.
    untitled = page.locator("#node-rows th, #node-rows td").evaluate_all(
        "els => els.filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && !e.title).length"
    )
    assert untitled == 0


def test_a_run_of_unsaved_edits_counts_the_nodes_it_ran_in_every_list(page, site, llm, worker, tmp_path):
    """Issue 14 said such a run showed "0 nodes" in the list; this checks every place that counts them."""
    page.set_viewport_size(DESKTOP)
    sign_up(page, site)
    import_example(page, site, tmp_path)  # saved as version 1 with 4 nodes
    drop_kind(page, "text", 80, 600)  # a fifth node, not saved
    expect(page.locator("#save-state")).to_contain_text("Unsaved")
    page.get_by_role("button", name="▶ Run").click()
    expect(node(page, "debug-1")).to_have_class(status("succeeded"), timeout=20_000)
    expect(page.locator("#run-banner")).to_contain_text("5 ran")

    page.get_by_role("tab", name="Runs").click()
    expect(page.locator("#run-history .run-item")).to_have_count(1)
    expect(page.locator("#run-history .run-item")).to_contain_text("full")

    page.goto(f"{site}/runs/")
    expect(page.locator("#run-rows tr")).to_have_count(1)
    expect(page.locator("#run-rows tr")).to_contain_text("5 ran")
    page.locator("#run-rows a[href^='/runs/']").first.click()
    expect(page.locator("#run-facts")).to_contain_text("5 ran")
    expect(page.locator("#node-rows tr")).to_have_count(5)


def test_the_run_page_links_a_parent_to_its_child_runs_and_back(page, site):
    sign_up(page, site)
    owner = User.objects.get(email="alice@example.com")
    parent = WorkflowRunFactory(owner=owner, status="succeeded", completed_at=timezone.now())
    child = WorkflowRunFactory(
        owner=owner,
        status="failed",
        completed_at=timezone.now(),
        trigger="subworkflow",
        parent_run=parent,
        parent_node_id="text-1",
    )

    page.goto(f"{site}/runs/{parent.id}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    children = page.locator("#child-runs li")
    expect(children).to_have_count(1)
    expect(children).to_contain_text(f"{str(child.id)[:8]} from node")
    children.get_by_role("link", name=str(child.id)[:8], exact=True).click()

    expect(page).to_have_url(f"{site}/runs/{child.id}/")
    expect(page.locator("#run-parent")).to_contain_text("Started by node text-1 of run")
    page.locator("#run-parent").get_by_role("link").click()
    expect(page).to_have_url(f"{site}/runs/{parent.id}/")

    # The runs list shows the child run, marked with its parent.
    page.goto(f"{site}/runs/")
    expect(page.locator(f'tr[data-id="{child.id}"]')).to_contain_text(f"child of {str(parent.id)[:8]}")


def test_the_run_page_shows_the_trace_the_run_belongs_to(page, site):
    sign_up(page, site)
    owner = User.objects.get(email="alice@example.com")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    ended = {"owner": owner, "status": "succeeded", "completed_at": timezone.now()}
    traced, untraced = WorkflowRunFactory(**ended, trace_id=trace_id), WorkflowRunFactory(**ended)

    page.goto(f"{site}/runs/{traced.id}/")
    expect(page.locator("#run-facts")).to_contain_text(f"Trace{trace_id}")
    page.goto(f"{site}/runs/{untraced.id}/")
    expect(page.locator("#run-facts")).to_contain_text("Trace\N{EN DASH}")  # as every empty fact
