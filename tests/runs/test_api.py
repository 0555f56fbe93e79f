"""The runs REST API: execute, history, detail and logs, cancel, rerun; isolation; caching."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from runs.models import NodeResult, RunScope, RunStatus, WorkflowRun
from runs.selectors import run_logs
from runs.tasks import execute_run
from tests.factories import (
    ExecutionLogFactory,
    NodeResultFactory,
    WorkflowFactory,
    WorkflowRunFactory,
)
from tests.graphs import text_to_debug_graph

pytestmark = pytest.mark.django_db


# Execute ------------------------------------------------------------------------------------


def test_execute_needs_authentication(anon_client):
    response = anon_client.post("/api/execute", {"nodes": [], "edges": []}, format="json")

    assert response.status_code == 401


def test_executing_a_saved_workflow_snapshots_its_current_version_and_enqueues_after_commit(
    alice, alice_token_client, broker, django_capture_on_commit_callbacks
):
    workflow = WorkflowFactory(owner=alice, version=3)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_token_client.post("/api/execute", {"workflowId": str(workflow.id)}, format="json")
        assert broker.queues[execute_run.queue_name].qsize() == 0  # not before the commit

    assert response.status_code == 202
    run = WorkflowRun.objects.get(pk=response.json()["runId"])
    assert (run.owner, run.workflow, run.workflow_version, run.status) == (
        alice,
        workflow,
        3,
        RunStatus.QUEUED,
    )
    assert run.graph == workflow.graph
    assert run.total_nodes == 2
    messages = list(broker.queues[execute_run.queue_name].queue)
    assert len(messages) == 1
    assert run.trigger_id
    assert run.trigger_id in messages[0].decode()


def test_executing_an_unsaved_graph_creates_a_run_without_workflow(alice_client):
    response = alice_client.post("/api/execute", text_to_debug_graph(), format="json")

    assert response.status_code == 202
    run = WorkflowRun.objects.get(pk=response.json()["runId"])
    assert run.workflow is None
    assert run.nodes[0]["id"] == "text-1"


def test_an_invalid_graph_is_a_400_with_paths(alice_client):
    graph = text_to_debug_graph()
    graph["edges"][0]["target"] = "nowhere"
    graph["nodes"][0]["data"]["text"] = 12

    response = alice_client.post("/api/execute", graph, format="json")

    assert response.status_code == 400
    paths = {error["path"] for error in response.json()["errors"]}
    assert "nodes[0].data.text" in paths
    assert any(path.startswith("edges[0]") for path in paths)
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "workflowId"),
        ({"workflowId": "not-a-uuid"}, "workflowId"),
        ({**text_to_debug_graph(), "scope": "everything"}, "scope"),
        ({**text_to_debug_graph(), "scope": "node", "nodeIds": ["nope"]}, "nodeIds[0]"),
        ({**text_to_debug_graph(), "scope": "node", "nodeIds": ["text-1", "debug-1"]}, "nodeIds"),
        ({**text_to_debug_graph(), "scope": "selection"}, "nodeIds"),
        ({**text_to_debug_graph(), "nodes": "many"}, "nodes"),
    ],
)
def test_bad_execute_input_is_a_400_naming_the_field(alice_client, body, path):
    response = alice_client.post("/api/execute", body, format="json")

    assert response.status_code == 400
    assert path in [error["path"] for error in response.json()["errors"]]


def test_executing_another_users_workflow_is_a_404(bob, alice_client):
    workflow = WorkflowFactory(owner=bob)

    response = alice_client.post("/api/execute", {"workflowId": str(workflow.id)}, format="json")

    assert response.status_code == 404
    assert not WorkflowRun.objects.exists()


def test_execute_is_rate_limited_per_user_with_retry_after(settings, alice_client, bob_client):
    settings.EXECUTE_RATE_LIMIT = "3/m"
    settings.RUN_MAX_ACTIVE_PER_USER = 100
    statuses = [alice_client.post("/api/execute", text_to_debug_graph(), format="json") for _ in range(4)]

    assert [r.status_code for r in statuses] == [202, 202, 202, 429]
    limited = statuses[-1]
    assert "rate limit" in limited.json()["detail"].lower()
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Bob has his own budget.
    assert bob_client.post("/api/execute", text_to_debug_graph(), format="json").status_code == 202


def test_too_many_active_runs_is_a_429_with_a_clear_message(settings, alice, alice_client):
    settings.RUN_MAX_ACTIVE_PER_USER = 2
    WorkflowRunFactory(owner=alice, status=RunStatus.QUEUED)
    WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)

    response = alice_client.post("/api/execute", text_to_debug_graph(), format="json")

    assert response.status_code == 429
    assert "2 runs queued or running" in response.json()["detail"]


# History ------------------------------------------------------------------------------------


def test_the_run_list_is_the_users_own_newest_first_with_counts(alice, bob, alice_client):
    workflow = WorkflowFactory(owner=alice, name="Daily digest")
    first = WorkflowRunFactory(owner=alice, workflow=workflow, status=RunStatus.SUCCEEDED, succeeded_nodes=2)
    second = WorkflowRunFactory(owner=alice, workflow=None, status=RunStatus.FAILED, error_summary="boom")
    WorkflowRunFactory(owner=bob)

    body = alice_client.get("/api/runs").json()

    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [str(second.id), str(first.id)]
    row = body["results"][1]
    assert row["workflowId"] == str(workflow.id)
    assert row["workflowName"] == "Daily digest"
    assert (row["status"], row["totalNodes"], row["succeededNodes"]) == ("succeeded", 2, 2)
    # One line per key would restate the serializer's field list line for line.
    assert set(row) == set(
        "id workflowId workflowName workflowVersion status scope trigger triggerRef reuse resumedFrom "  # noqa: SIM905
        "parentRunId parentNodeId totalNodes succeededNodes failedNodes skippedNodes reusedNodes inputTokens "
        "outputTokens cost durationMs errorSummary createdAt startedAt completedAt".split()
    )
    assert body["results"][0]["workflowName"] is None


def test_the_run_list_filters_by_status_and_workflow_and_paginates(alice, alice_client):
    workflow = WorkflowFactory(owner=alice)
    WorkflowRunFactory.create_batch(3, owner=alice, workflow=workflow, status=RunStatus.FAILED)
    WorkflowRunFactory.create_batch(2, owner=alice, status=RunStatus.SUCCEEDED)

    assert alice_client.get("/api/runs?status=failed").json()["count"] == 3
    assert alice_client.get(f"/api/runs?workflow={workflow.id}").json()["count"] == 3
    page = alice_client.get("/api/runs?limit=2&page=3").json()
    assert (page["count"], len(page["results"]), page["next"]) == (5, 1, None)


@pytest.mark.parametrize("query", ["status=bogus", "workflow=not-a-uuid"])
def test_bad_run_list_filters_are_a_400(alice_client, query):
    response = alice_client.get(f"/api/runs?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == query.split("=")[0]


def test_the_run_list_takes_a_constant_number_of_queries(alice, alice_client, django_assert_max_num_queries):
    for _ in range(30):
        WorkflowRunFactory(owner=alice, workflow=WorkflowFactory(owner=alice))

    # session + user, count, page
    with django_assert_max_num_queries(4):
        response = alice_client.get("/api/runs?limit=50")

    assert len(response.json()["results"]) == 30


def test_run_detail_has_the_snapshot_node_results_and_logs(
    alice, alice_client, django_assert_max_num_queries
):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED, completed_at=timezone.now())
    NodeResultFactory(run=run, node_id="text-1", output={"text": "hello"}, started_at=timezone.now())
    NodeResultFactory(run=run, node_id="debug-1", node_type="debug", output={"value": "hello"})
    ExecutionLogFactory(run=run, node_id="text-1", message="started")

    with django_assert_max_num_queries(7):  # session + user, run, results, logs, child runs, approvals
        body = alice_client.get(f"/api/runs/{run.id}").json()

    assert body["nodes"] == run.nodes
    assert body["edges"] == run.edges
    assert body["nodeIds"] == []
    assert [r["nodeId"] for r in body["nodeResults"]] == ["text-1", "debug-1"]
    assert body["nodeResults"][0]["output"] == {"text": "hello"}
    assert set(body["nodeResults"][0]) >= {"errorKind", "inputTokens", "contentKey", "durationMs", "attempts"}
    assert body["logs"] == [
        {"nodeId": "text-1", "level": "info", "message": "started", "timestamp": body["logs"][0]["timestamp"]}
    ]
    assert body["logsNext"] is None
    assert (body["childRuns"], body["parentRunId"]) == ([], None)


def test_logs_past_a_thousand_lines_are_paginated(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)
    ExecutionLogFactory.create_batch(1003, run=run)

    body = alice_client.get(f"/api/runs/{run.id}").json()

    assert len(body["logs"]) == 1000
    assert body["logsNext"].endswith(f"/api/runs/{run.id}/logs?limit=100&page=11")
    page = alice_client.get(body["logsNext"]).json()
    assert page["count"] == 1003
    assert [log["message"] for log in page["results"]] == [log.message for log in run_logs(run=run)[1000:]]


def test_cached_run_pages_link_to_the_host_each_client_asked_for(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED, completed_at=timezone.now())
    ExecutionLogFactory.create_batch(1001, run=run)
    WorkflowRunFactory.create_batch(2, owner=alice)

    first = alice_client.get(f"/api/runs/{run.id}", HTTP_HOST="localhost").json()
    first_page = alice_client.get("/api/runs?limit=1", HTTP_HOST="localhost").json()
    WorkflowRun.objects.update(error_summary="changed behind the cache's back")
    second = alice_client.get(f"/api/runs/{run.id}", HTTP_HOST="127.0.0.1").json()
    second_page = alice_client.get("/api/runs?limit=1", HTTP_HOST="127.0.0.1").json()

    assert (second["errorSummary"], second_page["results"][0]["errorSummary"]) == ("", "")  # cached
    assert first["logsNext"] == f"http://localhost/api/runs/{run.id}/logs?limit=100&page=11"
    assert second["logsNext"] == f"http://127.0.0.1/api/runs/{run.id}/logs?limit=100&page=11"
    assert first_page["next"] == "http://localhost/api/runs?limit=1&page=2"
    assert second_page["next"] == "http://127.0.0.1/api/runs?limit=1&page=2"


def test_a_runs_detail_is_cached_until_the_run_is_written_again(alice, alice_client):
    """Writes behind the services' back are not seen; tests/runs/test_cache.py shows a worker's batch is."""
    finished = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)
    alice_client.get(f"/api/runs/{finished.id}")
    NodeResultFactory(run=finished, node_id="text-1")
    assert alice_client.get(f"/api/runs/{finished.id}").json()["nodeResults"] == []  # cached


def test_another_users_run_is_a_404_everywhere(bob, alice_client):
    run = WorkflowRunFactory(owner=bob, status=RunStatus.RUNNING)

    for url in (f"/api/runs/{run.id}", f"/api/runs/{run.id}/logs"):
        assert alice_client.get(url).status_code == 404
    for url in (f"/api/runs/{run.id}/cancel", f"/api/runs/{run.id}/rerun"):
        assert alice_client.post(url).status_code == 404
    run.refresh_from_db()
    assert run.cancel_requested_at is None
    assert WorkflowRun.objects.count() == 1


def test_history_endpoints_need_authentication(anon_client):
    run = WorkflowRunFactory()

    assert anon_client.get("/api/runs").status_code == 401
    assert anon_client.get(f"/api/runs/{run.id}").status_code == 401
    assert anon_client.post(f"/api/runs/{run.id}/cancel").status_code == 401


# Cancel and rerun ---------------------------------------------------------------------------


def test_cancelling_a_queued_run_ends_it_and_its_nodes_at_once(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.QUEUED)

    response = alice_client.post(f"/api/runs/{run.id}/cancel")

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert set(NodeResult.objects.filter(run=run).values_list("status", flat=True)) == {"cancelled"}
    assert alice_client.get(f"/api/runs/{run.id}").json()["status"] == "cancelled"


def test_cancelling_a_running_run_asks_its_worker_to_stop(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING, started_at=timezone.now())

    response = alice_client.post(f"/api/runs/{run.id}/cancel")

    assert response.status_code == 202
    assert response.json()["status"] == "running"
    run.refresh_from_db()
    assert run.cancel_requested_at is not None


def test_cancelling_a_finished_run_is_a_409(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)

    response = alice_client.post(f"/api/runs/{run.id}/cancel")

    assert response.status_code == 409
    assert response.json()["status"] == "succeeded"


def test_a_run_that_finishes_while_being_cancelled_is_a_409_with_its_final_status(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING, started_at=timezone.now())
    finished: list[str] = []

    def worker_finishes_first(execute, sql, params, many, context):
        # The worker's final write lands between the view's read of the run and the cancel's own update.
        if not finished and sql.startswith("UPDATE") and WorkflowRun._meta.db_table in sql:
            finished.append(sql)
            WorkflowRun.objects.filter(pk=run.pk).update(
                status=RunStatus.SUCCEEDED, completed_at=timezone.now()
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(worker_finishes_first):
        response = alice_client.post(f"/api/runs/{run.id}/cancel")

    assert finished, "the cancel never wrote to the run"
    assert response.status_code == 409
    assert response.json()["status"] == "succeeded"


def test_rerun_starts_a_new_run_of_the_same_snapshot(alice, alice_client):
    workflow = WorkflowFactory(owner=alice)
    run = WorkflowRunFactory(
        owner=alice,
        workflow=workflow,
        workflow_version=1,
        status=RunStatus.FAILED,
        scope=RunScope.NODE,
        node_ids=["debug-1"],
    )
    workflow.nodes = []  # the workflow moved on; the rerun still runs the snapshot
    workflow.save()

    response = alice_client.post(f"/api/runs/{run.id}/rerun")

    assert response.status_code == 202
    new = WorkflowRun.objects.get(pk=response.json()["runId"])
    assert new.pk != run.pk
    assert (new.nodes, new.edges, new.scope, new.node_ids) == (run.nodes, run.edges, "node", ["debug-1"])
    assert (new.workflow, new.workflow_version, new.status) == (workflow, 1, RunStatus.QUEUED)
