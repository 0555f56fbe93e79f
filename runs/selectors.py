"""Reads of runs, always scoped to their owner and carrying what their callers need (no N+1)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.db.models import F, QuerySet
from django.http import Http404

from accounts.models import User
from runs.models import ACTIVE_RUN_STATUSES, ExecutionLog, NodeResult, NodeStatus, WorkflowRun

# The list shows summaries; the graph snapshot can be large and is only loaded for the detail.
_SUMMARY_DEFERRED = ("nodes", "edges", "node_ids")
_UPSTREAM_RUNS_SCANNED = 50


def run_list(*, user: User, status: str | None = None, workflow_id: uuid.UUID | None = None) -> QuerySet:
    runs = (
        WorkflowRun.objects.filter(owner=user)
        .select_related("workflow")
        .only(*_summary_fields(), "workflow__id", "workflow__name")
        .order_by("-created_at", "-id")
    )
    if status:
        runs = runs.filter(status=status)
    if workflow_id:
        runs = runs.filter(workflow_id=workflow_id)
    return runs


def _summary_fields() -> list[str]:
    return [
        f.name
        for f in WorkflowRun._meta.concrete_fields
        if f.name not in _SUMMARY_DEFERRED and f.name != "workflow"
    ] + ["workflow"]


def run_get(*, user: User, run_id: uuid.UUID | str) -> WorkflowRun:
    """The user's run, with its workflow; another user's run does not exist (404)."""
    run = WorkflowRun.objects.select_related("workflow").filter(owner=user, pk=run_id).first()
    if run is None:
        raise Http404("No such run.")
    return run


def run_node_results(*, run: WorkflowRun) -> QuerySet:
    # Nodes that never started (skipped, cancelled) come after those that did, on every database.
    return NodeResult.objects.filter(run=run).order_by(F("started_at").asc(nulls_last=True), "id")


def run_logs(*, run: WorkflowRun) -> QuerySet:
    return ExecutionLog.objects.filter(run=run).order_by("timestamp", "id")


def run_active_count(*, user: User) -> int:
    return WorkflowRun.objects.filter(owner=user, status__in=ACTIVE_RUN_STATUSES).count()


def run_succeeded_outputs(*, run: WorkflowRun) -> dict[str, dict]:
    """Outputs of the nodes this run already finished, so that a recovered run does not redo them."""
    rows = NodeResult.objects.filter(run=run, status=NodeStatus.SUCCEEDED).values_list("node_id", "output")
    return {node_id: output or {} for node_id, output in rows}


def run_upstream_outputs(*, run: WorkflowRun, exclude: Collection[str]) -> dict[str, dict]:
    """For a node/selection run: each node's output from the latest earlier run of the same workflow
    in which it succeeded (the nodes being run are excluded, they run again)."""
    if run.workflow_id is None:
        return {}
    wanted = {node.get("id") for node in run.nodes if isinstance(node, dict)} - set(exclude)
    # Older history than this is not worth scanning: the graph has moved on by then.
    recent_runs = (
        WorkflowRun.objects.filter(
            workflow_id=run.workflow_id, owner_id=run.owner_id, created_at__lt=run.created_at
        )
        .order_by("-created_at")
        .values("id")[:_UPSTREAM_RUNS_SCANNED]
    )
    rows = (
        NodeResult.objects.filter(run__in=recent_runs, node_id__in=wanted, status=NodeStatus.SUCCEEDED)
        .order_by("-run__created_at", "-id")
        .values_list("node_id", "output")
    )
    outputs: dict[str, dict] = {}
    for node_id, output in rows.iterator(chunk_size=500):
        outputs.setdefault(node_id, output or {})
    return outputs
