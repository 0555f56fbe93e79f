"""End to end in Chromium: runs wait for an approval; the inbox lists one and approves it with a comment, the
run page rejects the other, and each run finishes on the chosen branch (the run page following it live)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from runs.models import RunStatus, WorkflowRun
from runs.services import run_create
from tests.browser.helpers import sign_up
from tests.graphs import edge, graph, node
from tests.waiting import wait_for
from workflows.models import Workflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def review_graph() -> dict[str, list]:
    return graph(
        [
            node("in", "text", text="a post about owls"),
            node("review", "approval", instructions="Publish {{subject}}?"),
            node("publish", "debug"),
            node("redo", "debug"),
        ],
        [
            edge("in", "review", "text", "subject"),
            edge("review", "publish", "approved", "value"),
            edge("review", "redo", "rejected", "value"),
        ],
    )


def waiting_run(owner: User, workflow: Workflow) -> WorkflowRun:
    run = run_create(owner=owner, graph=review_graph(), workflow=workflow)
    wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).status == RunStatus.WAITING, timeout=20)
    return run


def expect_finished_on(page, run: WorkflowRun, taken: str, not_taken: str) -> None:
    expect(page.locator("body")).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(page.locator(f"#node-rows [data-node='{taken}']")).to_have_attribute("data-status", "succeeded")
    expect(page.locator(f"#node-rows [data-node='{not_taken}']")).to_have_attribute("data-status", "skipped")


def test_the_inbox_approves_one_run_and_the_run_page_rejects_another(page, site, worker, artifacts):
    sign_up(page, site)
    alice = User.objects.get(email="alice@example.com")
    workflow = Workflow.objects.create(owner=alice, name="Owl blog", nodes=[], edges=[])
    first, second = waiting_run(alice, workflow), waiting_run(alice, workflow)

    page.get_by_role("link", name="Approvals").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    cards = page.locator(".approval")
    expect(cards).to_have_count(2)
    card = page.locator(f".approval[data-run='{first.id}']")
    expect(card).to_contain_text("Owl blog")
    expect(card).to_contain_text("Publish a post about owls?")
    page.screenshot(path=str(artifacts / "approvals-inbox.png"), full_page=True)
    card.get_by_label("Comment on review").fill("lovely owls")
    card.get_by_role("button", name="Approve").click()
    expect(cards).to_have_count(1)
    wait_for(lambda: WorkflowRun.objects.get(pk=first.pk).status == RunStatus.SUCCEEDED, timeout=20)

    page.goto(f"{site}/runs/{first.id}/")
    expect_finished_on(page, first, "publish", "redo")
    expect(page.locator("#logs")).to_contain_text("approval approve: alice@example.com: lovely owls")

    page.goto(f"{site}/runs/?status=waiting")
    expect(page.locator("#run-rows .badge--waiting")).to_have_count(1)
    page.goto(f"{site}/workflows/")  # the dashboard: the workflow's last run waits
    expect(page.locator(".card", has_text="Owl blog").locator(".badge--waiting")).to_have_count(1)

    page.goto(f"{site}/runs/{second.id}/")
    expect(page.locator("body")).to_have_attribute("data-status", "waiting")
    expect(page.locator("#approvals")).to_contain_text("Publish a post about owls?")
    page.locator("#approvals").get_by_label("Comment on review").fill("not yet")
    page.locator("#approvals").get_by_role("button", name="Reject").click()
    expect_finished_on(page, second, "redo", "publish")
    expect(page.locator("#approvals")).to_be_hidden()
