"""The run count and last run status a workflow shows are written by the runs services on every run
change, so that the workflows app shows them without depending on runs."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

import engine
from runs.driving import run_execute
from runs.models import RunStatus
from runs.recovery import runs_purge
from runs.services import run_cancel, run_create
from tests.factories import WorkflowFactory, WorkflowRunFactory
from tests.graphs import text_to_debug_graph

pytestmark = pytest.mark.django_db(transaction=True)


def _summary(client, workflow) -> tuple[int, str | None]:
    detail = client.get(f"/api/workflows/{workflow.pk}").json()
    listed = client.get("/api/workflows").json()["results"][0]
    assert (listed["runCount"], listed["lastRunStatus"]) == (detail["runCount"], detail["lastRunStatus"])
    return detail["runCount"], detail["lastRunStatus"]


def test_creating_cancelling_and_purging_runs_updates_the_workflows_summary(alice, alice_client):
    workflow = WorkflowFactory(owner=alice)
    assert _summary(alice_client, workflow) == (0, None)

    run = run_create(owner=alice, graph=workflow.graph, workflow=workflow, enqueue=False)
    assert _summary(alice_client, workflow) == (1, "queued")

    run_cancel(run=run)
    assert _summary(alice_client, workflow) == (1, "cancelled")

    WorkflowRunFactory(owner=alice, workflow=workflow, status=RunStatus.SUCCEEDED)
    runs_purge(older_than=timedelta(0))
    assert _summary(alice_client, workflow) == (0, None)


def test_the_data_migration_fills_the_summary_of_existing_workflows(alice):
    workflow = WorkflowFactory(owner=alice)
    WorkflowRunFactory(owner=alice, workflow=workflow, status=RunStatus.SUCCEEDED)
    WorkflowRunFactory(
        owner=alice, workflow=workflow, status=RunStatus.FAILED, created_at=timezone.now() + timedelta(1)
    )
    migration = importlib.import_module("runs.migrations.0002_fill_workflow_run_summary")

    migration.fill(apps, None)

    workflow.refresh_from_db()
    assert (workflow.run_count, workflow.last_run_status) == (2, "failed")


def test_a_claimed_run_shows_running_unless_a_newer_run_is_its_workflows_last(alice, alice_client):
    workflow = WorkflowFactory(owner=alice)
    older = run_create(owner=alice, graph=text_to_debug_graph(), workflow=workflow, enqueue=False)
    newer = run_create(owner=alice, graph=text_to_debug_graph(), workflow=workflow, enqueue=False)
    shown = []

    run_execute(run_id=str(older.id), listener=_shown_when_started(shown, alice_client, workflow))
    assert _summary(alice_client, workflow) == (2, "queued")
    run_execute(run_id=str(newer.id), listener=_shown_when_started(shown, alice_client, workflow))

    assert shown == [(2, "queued"), (2, "running")]
    assert _summary(alice_client, workflow) == (2, "succeeded")


def _shown_when_started(shown: list, client, workflow):
    def listener(event) -> None:
        if isinstance(event, engine.RunStarted):
            shown.append(_summary(client, workflow))

    return listener


def test_a_running_runs_workflow_shows_running_and_its_end_shows_its_status(alice, alice_client):
    workflow = WorkflowFactory(owner=alice)
    run = run_create(owner=alice, graph=text_to_debug_graph(), workflow=workflow, enqueue=False)
    shown = []

    run_execute(run_id=str(run.id), listener=_shown_when_started(shown, alice_client, workflow))

    assert shown == [(1, "running")]
    assert _summary(alice_client, workflow) == (1, "succeeded")
