"""What follows every write of a run (created, claimed, each status change, deleted): its workflow's stored
run summary is rewritten and its owner's cached payloads go stale."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.db import transaction

from core.cache import owner_caches_invalidate
from runs.models import WorkflowRun, workflow_run_summary
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
