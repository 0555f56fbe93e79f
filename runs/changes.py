"""What follows every write of a run (created, claimed, each status change, deleted): its workflow's stored
run summary is rewritten and its owner's cached payloads go stale."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.db import transaction
from django.db.models import Exists, Q

from core.cache import owner_caches_invalidate
from runs.models import RunStatus, WorkflowRun, workflow_run_summary
from runs.reconnect import reconnecting
from workflows.models import Workflow


def run_changed(run: WorkflowRun) -> None:
    """Rewrite the run's workflow's summary and move its owner's cache generation on."""
    if run.workflow_id is not None:
        workflow_ids = [run.workflow_id]
        reconnecting(lambda: workflow_run_summaries_write(workflow_ids=workflow_ids))
    owner_caches_invalidate(owner_id=run.owner_id)


@transaction.atomic
def workflow_run_summaries_write(*, workflow_ids: Collection[uuid.UUID]) -> None:
    """Store each workflow's run count and last run status, which the workflows app shows."""
    workflows = Workflow.objects.filter(pk__in=workflow_ids)
    # Lock first, count after: the count then sees every run committed before this writer's turn, so
    # of two runs finishing at once the later writer counts both.
    list(workflows.select_for_update().values_list("pk", flat=True))
    workflows.update(**workflow_run_summary(WorkflowRun))


def run_claimed(run: WorkflowRun) -> None:
    """What follows a claim (queued -> running): one UPDATE, not the locked rewrite of `run_changed`. A claim
    changes no run count, and it changes the last status only when the run is its workflow's newest. Not
    locked, a claim may miss a run created at that very moment and show `running` until that run is claimed
    itself; every end and every creation rewrites the summary under the lock."""
    if run.workflow_id is not None and run.recoveries == 0:  # a taken-over run was running already
        reconnecting(lambda: _workflow_shows_running(run))
    owner_caches_invalidate(owner_id=run.owner_id)


def _workflow_shows_running(run: WorkflowRun) -> None:
    newer = WorkflowRun.objects.filter(workflow_id=run.workflow_id).filter(
        Q(created_at__gt=run.created_at) | Q(created_at=run.created_at, pk__gt=run.pk)
    )
    Workflow.objects.filter(~Exists(newer), pk=run.workflow_id).exclude(
        last_run_status=RunStatus.RUNNING
    ).update(last_run_status=RunStatus.RUNNING)


def run_ended_changed(run: WorkflowRun) -> None:
    """What follows a run's end written by its worker: as `run_changed`, but only the last status is
    rewritten (an end changes no run count)."""
    if run.workflow_id is not None:
        workflow_id = run.workflow_id
        reconnecting(lambda: _workflow_last_status_write(workflow_id=workflow_id))
    owner_caches_invalidate(owner_id=run.owner_id)


@transaction.atomic
def _workflow_last_status_write(*, workflow_id: uuid.UUID) -> None:
    # Locked as in workflow_run_summaries_write: of two runs ending at once, the later writer sees both.
    workflow = Workflow.objects.filter(pk=workflow_id)
    list(workflow.select_for_update().values_list("pk", flat=True))
    workflow.update(last_run_status=workflow_run_summary(WorkflowRun)["last_run_status"])
