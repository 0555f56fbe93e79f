"""Approval steps through the runs app: a run waits holding no worker, a decision (or the sweeper's timeout)
queues it again, and it goes on from where it stopped without executing any finished node again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.driving import run_execute
from runs.models import Approval, ExecutionLog, NodeResult, RunStatus, WorkflowRun
from runs.recovery import runs_recover_stale
from runs.services import run_create
from tests.graphs import graph, node
from tests.runs.helpers import waiting_run
from tests.sse import parse_stream

pytestmark = pytest.mark.django_db


def decide(client, run: WorkflowRun, decision: str, comment: str = "") -> object:
    body = {"decision": decision, "comment": comment}
    return client.post(f"/api/runs/{run.id}/approvals/review", body, format="json")


@pytest.mark.parametrize(
    ("decision", "taken", "not_taken"), [("approve", "publish", "redo"), ("reject", "redo", "publish")]
)
def test_a_decided_run_goes_on_along_the_chosen_branch_and_executes_no_finished_node_again(
    alice, alice_client, llm_settings, decision: str, taken: str, not_taken: str
) -> None:
    run = waiting_run(alice)
    assert len(llm_settings.requests_for("gemini")) == 2  # draft and the parallel branch ran before it waited
    assert run.completed_at is None
    [asked] = alice_client.get("/api/approvals").json()["results"]
    assert (asked["runId"], asked["nodeId"], asked["subject"], asked["workflowId"]) == (
        str(run.id),
        "review",
        "echo: write a post",
        None,  # a graph run, filed under no workflow
    )
    assert [r["id"] for r in alice_client.get("/api/runs?status=waiting").json()["results"]] == [str(run.id)]

    response = decide(alice_client, run, decision, "looks good")
    assert response.status_code == 202
    assert WorkflowRun.objects.get(pk=run.pk).status == RunStatus.QUEUED
    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    calls = len(llm_settings.requests_for("gemini"))
    assert calls == (3 if taken == "publish" else 2)  # draft and side were not called again
    results = {r.node_id: r for r in NodeResult.objects.filter(run=run)}
    assert len(results) == 6  # one result per node: nothing ran twice
    assert results[taken].status == "succeeded"
    assert (results[not_taken].status, results[not_taken].error_kind) == ("skipped", "branch_not_taken")
    assert results["review"].output["decision"]["comment"] == "looks good"
    assert results["review"].output["decision"]["who"] == "alice@example.com"
    messages = list(ExecutionLog.objects.filter(run=run).values_list("message", flat=True))
    assert any(m.startswith("approval requested: Publish echo: write a post?") for m in messages)
    assert f"approval {decision}: alice@example.com: looks good" in messages
    assert alice_client.get("/api/approvals").json()["results"] == []


def test_the_sweeper_times_out_an_approval_and_on_timeout_decides(alice, llm_settings) -> None:
    run = waiting_run(alice)
    Approval.objects.filter(run=run).update(deadline=timezone.now() - timedelta(seconds=1))

    report = runs_recover_stale()
    finished = run_execute(run_id=str(run.id))

    assert report.timed_out == 1
    assert finished.status == RunStatus.SUCCEEDED
    redo = NodeResult.objects.get(run=run, node_id="redo")
    assert redo.status == "succeeded"  # onTimeout defaults to reject
    assert NodeResult.objects.get(run=run, node_id="review").output["decision"]["decision"] == "timeout"


def test_a_waiting_run_is_not_stale_and_holds_no_active_run_slot(alice, llm_settings, settings) -> None:
    settings.RUN_MAX_ACTIVE_PER_USER = 1
    settings.RUN_STALE_AFTER_SECONDS = 0
    waiting = [waiting_run(alice) for _ in range(8)]

    runs_recover_stale()
    ordinary = run_create(owner=alice, graph=graph([node("t", "text", text="hi")]), enqueue=False)
    finished = run_execute(run_id=str(ordinary.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert {r.status for r in WorkflowRun.objects.filter(pk__in=[w.pk for w in waiting])} == {
        RunStatus.WAITING
    }
    assert all(r.recoveries == 0 for r in WorkflowRun.objects.filter(pk__in=[w.pk for w in waiting]))


def test_a_second_decision_is_a_409(alice, alice_client, llm_settings) -> None:
    run = waiting_run(alice)
    assert decide(alice_client, run, "approve").status_code == 202

    assert decide(alice_client, run, "reject").status_code == 409


def test_another_users_approval_is_a_404(alice, bob_client, llm_settings) -> None:
    run = waiting_run(alice)

    assert decide(bob_client, run, "approve").status_code == 404
    assert bob_client.get("/api/approvals").json()["count"] == 0
    assert Approval.objects.get(run=run).decision == ""


def test_a_decision_on_a_cancelled_run_is_a_409(alice, alice_client, llm_settings) -> None:
    run = waiting_run(alice)
    assert alice_client.post(f"/api/runs/{run.id}/cancel").status_code == 202
    assert WorkflowRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED

    assert decide(alice_client, run, "approve").status_code == 409


def test_deciding_needs_a_known_decision(alice, alice_client, llm_settings) -> None:
    run = waiting_run(alice)

    assert decide(alice_client, run, "maybe").status_code == 400


@pytest.mark.django_db(transaction=True)  # the decision's commit moves the cached detail on
def test_the_run_detail_shows_what_its_approval_asks_and_then_the_decision(
    alice, alice_client, llm_settings, broker
):
    run = waiting_run(alice)

    [asked] = alice_client.get(f"/api/runs/{run.id}").json()["approvals"]
    assert (asked["nodeId"], asked["subject"], asked["instructions"], asked["decision"]) == (
        "review",
        "echo: write a post",
        "Publish echo: write a post?",
        "",
    )
    decide(alice_client, run, "reject", "not yet")
    [decided] = alice_client.get(f"/api/runs/{run.id}").json()["approvals"]
    assert (decided["decision"], decided["comment"]) == ("reject", "not yet")


@pytest.mark.django_db(transaction=True)  # the stream reads the run from another thread
@pytest.mark.parametrize("bus", ["memory", pytest.param("redis", marks=pytest.mark.services)])
def test_the_stream_of_a_resumed_run_goes_past_its_wait_to_its_real_end(
    alice, alice_client, llm_settings, settings, broker, bus
):
    if bus == "memory":
        settings.REDIS_URL = ""  # the in-memory bus of this process
    run = waiting_run(alice)
    waited = parse_stream(b"".join(alice_client.get(f"/api/runs/{run.id}/events").streaming_content))
    last_type, last = waited[-1]
    assert (last_type, last["status"]) == ("end", "waiting")

    decide(alice_client, run, "approve")
    run_execute(run_id=str(run.id))
    events = parse_stream(b"".join(alice_client.get(f"/api/runs/{run.id}/events").streaming_content))

    ends = [data for event_type, data in events if event_type == "end"]
    assert [end["status"] for end in ends] == ["succeeded"]
    assert ("node", "publish") in [(event_type, data.get("nodeId")) for event_type, data in events]
    assert "approval_decided" in [event_type for event_type, _ in events]
