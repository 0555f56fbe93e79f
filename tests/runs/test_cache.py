"""Cached run payloads never outlive what they show: deleted runs and renamed or deleted workflows.

The writes commit for real (transactional database), as in production, so the invalidation that follows a
commit happens exactly as it does there. With REDIS_URL set (CI) the cache is the real Redis.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import engine
from accounts.models import User
from core.cache import owner_generation
from runs import selectors
from runs.execution import RunGuard
from runs.models import RunStatus, WorkflowRun
from runs.persistence import RunEventSink
from runs.services import run_create
from tests.factories import WorkflowFactory, WorkflowRunFactory
from tests.graphs import text_to_debug_graph, workflow_payload

pytestmark = pytest.mark.django_db(transaction=True)


def _finished_run(owner: User, **fields: object):
    return WorkflowRunFactory(owner=owner, status=RunStatus.SUCCEEDED, completed_at=timezone.now(), **fields)


def test_a_purged_run_disappears_from_every_cached_view_at_once(alice, alice_client):
    run = _finished_run(alice, created_at=timezone.now() - timedelta(days=40))
    assert alice_client.get(f"/api/runs/{run.id}").status_code == 200
    assert alice_client.get("/api/runs").json()["count"] == 1

    call_command("purge_runs", older_than="30d")

    assert alice_client.get(f"/api/runs/{run.id}").status_code == 404
    assert alice_client.get("/api/runs").json()["count"] == 0


def test_deleting_a_workflow_drops_it_from_its_runs_cached_views(alice, alice_client):
    workflow = WorkflowFactory(owner=alice, name="Doomed")
    run = _finished_run(alice, workflow=workflow)
    assert alice_client.get(f"/api/runs/{run.id}").json()["workflowName"] == "Doomed"
    assert alice_client.get("/api/runs").json()["results"][0]["workflowName"] == "Doomed"

    assert alice_client.delete(f"/api/workflows/{workflow.id}").status_code == 204

    detail = alice_client.get(f"/api/runs/{run.id}").json()
    assert (detail["workflowId"], detail["workflowName"]) == (None, None)
    assert alice_client.get("/api/runs").json()["results"][0]["workflowName"] is None


def test_a_deleted_users_cached_runs_are_never_served_again(alice, alice_client):
    run = _finished_run(alice)
    assert alice_client.get(f"/api/runs/{run.id}").status_code == 200
    alice_id = alice.pk

    User.objects.filter(pk=alice_id).delete()

    # Whoever might ask under that id again (a stale session, a reused id) finds nothing.
    with pytest.raises(Http404):
        selectors.run_detail(owner=User(pk=alice_id), run_id=run.id)


def test_renaming_a_workflow_renames_it_in_the_cached_run_list_and_detail(alice, alice_client):
    workflow = WorkflowFactory(owner=alice, name="Before")
    run = _finished_run(alice, workflow=workflow)
    assert alice_client.get("/api/runs").json()["results"][0]["workflowName"] == "Before"
    assert alice_client.get(f"/api/runs/{run.id}").json()["workflowName"] == "Before"

    response = alice_client.put(
        f"/api/workflows/{workflow.id}", workflow_payload(name="After", version=1), format="json"
    )
    assert response.status_code == 200

    assert alice_client.get("/api/runs").json()["results"][0]["workflowName"] == "After"
    assert alice_client.get(f"/api/runs/{run.id}").json()["workflowName"] == "After"


def test_the_run_list_is_cached_and_invalidated_when_a_run_changes_status(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.QUEUED)
    assert alice_client.get("/api/runs").json()["results"][0]["status"] == "queued"
    WorkflowRun.objects.filter(pk=run.pk).update(error_summary="changed behind the cache's back")
    assert alice_client.get("/api/runs").json()["results"][0]["errorSummary"] == ""  # served from cache

    assert alice_client.post(f"/api/runs/{run.id}/cancel").status_code == 202

    assert alice_client.get("/api/runs").json()["results"][0]["status"] == "cancelled"


def test_one_run_creation_moves_the_owners_cache_generation_once(alice):
    generation = owner_generation(alice.pk)

    run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)

    assert owner_generation(alice.pk) == generation + 1


def test_a_running_runs_detail_is_cached_until_its_worker_writes_the_next_batch(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    sink = RunEventSink(run=run, guard=RunGuard(run_id=str(run.id), fence=run.recoveries))
    assert alice_client.get(f"/api/runs/{run.id}").json()["logs"] == []
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(f"/api/runs/{run.id}")
    assert not [query for query in queries if "runs_" in query["sql"]]  # only the session was read

    sink.emit(engine.LogLine(node_id="a", level="info", message="first batch"))
    sink.flush()

    logs = alice_client.get(f"/api/runs/{run.id}").json()["logs"]
    assert [log["message"] for log in logs] == ["first batch"]
