"""Runs executed by a real Dramatiq worker (StubBroker): end to end, progress visible mid-run, cancel."""

from __future__ import annotations

import time

import pytest
from django.db.models import F

from runs.models import NodeResult, RunStatus, WorkflowRun
from tests.brokers import drain
from tests.factories import WorkflowFactory
from tests.graphs import text_llm_chain
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_executed_workflow_runs_on_a_worker_to_success(alice, alice_client, broker, worker, llm_settings):
    workflow = WorkflowFactory(owner=alice, **text_llm_chain(3))

    response = alice_client.post("/api/execute", {"workflowId": str(workflow.id)}, format="json")
    drain(broker, worker)

    assert response.status_code == 202
    body = alice_client.get(f"/api/runs/{response.json()['runId']}").json()
    assert body["status"] == "succeeded"
    assert [r["status"] for r in body["nodeResults"]] == ["succeeded"] * 3
    assert body["nodeResults"][2]["output"] == {"text": "echo: echo: hello"}
    assert body["succeededNodes"] == 3
    # The workflow list shows the run (its cache was invalidated on every status change).
    listed = alice_client.get("/api/workflows").json()["results"][0]
    assert (listed["runCount"], listed["lastRunStatus"]) == (1, "succeeded")


def test_a_poller_sees_finished_nodes_while_the_run_is_running_and_cancel_cuts_off_the_call_in_flight(
    alice, alice_client, broker, worker, llm_settings
):
    # Every answer takes a minute (the fixture's teardown releases it): b can only end by being cut off.
    llm_settings.latency_s = 60
    response = alice_client.post("/api/execute", text_llm_chain(5), format="json")
    run_id = response.json()["runId"]

    def b_in_flight():
        body = alice_client.get(f"/api/runs/{run_id}").json()
        return body if llm_settings.requests and body["nodeResults"] else None

    mid_run = wait_for(b_in_flight, timeout=30)
    assert mid_run["status"] == "running"
    assert [(r["nodeId"], r["status"]) for r in mid_run["nodeResults"]] == [("a", "succeeded")]

    assert alice_client.post(f"/api/runs/{run_id}/cancel").status_code == 202
    wait_for(lambda: WorkflowRun.objects.get(pk=run_id).status == RunStatus.CANCELLED, timeout=30)
    drain(broker, worker)

    run = WorkflowRun.objects.get(pk=run_id)
    cut_off = NodeResult.objects.get(run=run, node_id="b")
    assert cut_off.created_at >= run.cancel_requested_at  # written when the worker noticed the cancel
    statuses = dict(NodeResult.objects.filter(run_id=run_id).values_list("node_id", "status"))
    assert statuses == {"a": "succeeded"} | dict.fromkeys("bcde", "cancelled")
    assert len(llm_settings.requests) == 1  # b, cut off; c, d and e never started


def test_a_duplicate_message_runs_the_run_once(alice, broker, worker, llm_settings):
    from runs.services import run_create
    from runs.tasks import execute_run

    run = run_create(owner=alice, graph=text_llm_chain(2), enqueue=False)
    execute_run.send(str(run.id))
    execute_run.send(str(run.id))
    drain(broker, worker)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert len(llm_settings.requests) == 1
    assert NodeResult.objects.filter(run=run).count() == 2


def test_a_live_run_keeps_its_heartbeat_fresh_so_the_sweeper_leaves_it_alone(
    alice, broker, worker, llm_settings, settings
):
    from runs.recovery import runs_recover_stale
    from runs.services import run_create

    # The heartbeat is refreshed while the LLM call is in flight, and the sweeper leaves a run with a fresh
    # heartbeat alone. A stale window of 150 heartbeats: a loaded machine's scheduling delays cannot fake a
    # dead worker. (Which heartbeat ages count as stale is tested without a clock in test_recovery.py.)
    settings.RUN_STALE_AFTER_SECONDS = 30
    settings.RUN_HEARTBEAT_SECONDS = 0.2
    llm_settings.latency_s = 3
    run = run_create(owner=alice, graph=text_llm_chain(2), enqueue=False)
    from runs.tasks import execute_run

    execute_run.send(str(run.id))
    wait_for(lambda: llm_settings.requests)
    heartbeats = set()
    while not (current := WorkflowRun.objects.get(pk=run.pk)).is_finished:
        heartbeats.add(current.heartbeat_at)
        assert runs_recover_stale().requeued == 0
        time.sleep(0.2)
    drain(broker, worker)

    run.refresh_from_db()
    assert (run.status, run.recoveries) == (RunStatus.SUCCEEDED, 0)
    assert len(heartbeats) >= 2, "the heartbeat did not move while the LLM call was in flight"


def test_a_worker_that_lost_its_run_to_another_stops_without_writing(alice, broker, worker, llm_settings):
    from runs.services import run_create
    from runs.tasks import execute_run

    llm_settings.latency_s = 1.5
    run = run_create(owner=alice, graph=text_llm_chain(3), enqueue=False)
    execute_run.send(str(run.id))
    wait_for(lambda: NodeResult.objects.filter(run=run, node_id="a").exists())

    # What a second worker's claim does after deciding this one is dead.
    WorkflowRun.objects.filter(pk=run.pk).update(recoveries=F("recoveries") + 1)
    drain(broker, worker)

    run.refresh_from_db()
    assert (run.status, run.completed_at) == (RunStatus.RUNNING, None)  # left for the new owner
    assert list(NodeResult.objects.filter(run=run).values_list("node_id", flat=True)) == ["a"]
