"""Reads of runs, always scoped to their owner and carrying what their callers need (no N+1); the
history API's payloads come cached from here."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.db.models import F, QuerySet

import engine
from accounts.models import User
from core.errors import NotFound, get_or_not_found
from core.pagination import MAX_LIMIT, Page
from runs import cache
from runs.models import Approval, ExecutionLog, NodeResult, RunStatus, WorkflowRun
from runs.outputs import outputs_by_name
from runs.result_serializers import RunDetailOutputSerializer, RunSummarySerializer

# The list shows summaries; the graph snapshot can be large and is only loaded for the detail.
_SUMMARY_DEFERRED = ("nodes", "edges", "node_ids", "inputs")
# Logs in the run detail: the first ten pages of the logs endpoint.
LOG_PAGE_SIZE = 10 * MAX_LIMIT
# How often a request that waits for its run (`wait`) looks at the run row.
WAIT_POLL_SECONDS = 0.25


def run_list(
    *,
    owner: User,
    status: str | None = None,
    workflow_id: uuid.UUID | None = None,
    trigger: str | None = None,
    trigger_ref: str | None = None,
) -> QuerySet:
    runs = (
        WorkflowRun.objects.filter(owner=owner)
        .select_related("workflow")
        .only(*_summary_fields(), "workflow__id", "workflow__name")
        .order_by("-created_at", "-id")
    )
    if status:
        runs = runs.filter(status=status)
    if workflow_id:
        runs = runs.filter(workflow_id=workflow_id)
    if trigger:
        runs = runs.filter(trigger=trigger)
    if trigger_ref:
        runs = runs.filter(trigger_ref=trigger_ref)
    return runs


def _summary_fields() -> list[str]:
    return [
        f.name
        for f in WorkflowRun._meta.concrete_fields
        if f.name not in _SUMMARY_DEFERRED and f.name != "workflow"
    ] + ["workflow"]


def run_list_page(
    *,
    owner: User,
    page: Page,
    status: str | None = None,
    workflow_id: uuid.UUID | None = None,
    trigger: str | None = None,
    trigger_ref: str | None = None,
) -> dict[str, Any]:
    """`{"count", "results"}` for one page of the owner's runs, cached per query."""

    def compute() -> dict[str, Any]:
        runs = run_list(
            owner=owner, status=status, workflow_id=workflow_id, trigger=trigger, trigger_ref=trigger_ref
        )
        return page.payload(runs, RunSummarySerializer)

    query = {
        "page": str(page.number),
        "limit": str(page.limit),
        "status": status or "",
        "workflow": str(workflow_id or ""),
        "trigger": trigger or "",
        "triggerRef": trigger_ref or "",
    }
    return cache.run_list_cached(owner_id=owner.pk, query=query, compute=compute)


def run_detail(*, owner: User, run_id: uuid.UUID | str) -> dict[str, Any]:
    """`{"run": the serialized run with its node results and first LOG_PAGE_SIZE logs, "moreLogs"}`, cached
    until the run's next write (runs.cache); anyone else's is a 404."""

    def compute() -> dict[str, Any]:
        run = run_get(owner=owner, run_id=run_id)
        run.loaded_node_results = list(run_node_results(run=run))
        logs = list(run_logs(run=run)[: LOG_PAGE_SIZE + 1])
        run.loaded_logs = logs[:LOG_PAGE_SIZE]
        run.loaded_child_runs = list(run_children(run=run))
        run.loaded_approvals = list(run.approvals.order_by("requested_at", "id"))
        return {
            "run": dict(RunDetailOutputSerializer(run).data),
            "moreLogs": len(logs) > LOG_PAGE_SIZE,
        }

    return cache.run_detail_cached(owner_id=owner.pk, run_id=run_id, compute=compute)


def run_get(*, owner: User, run_id: uuid.UUID | str) -> WorkflowRun:
    """The owner's run, with its workflow; another user's run does not exist (404)."""
    return get_or_not_found(
        WorkflowRun.objects.select_related("workflow").filter(owner=owner), message="No such run.", pk=run_id
    )


def run_node_output(*, owner: User, run_id: uuid.UUID | str, node_id: str) -> Any:
    """The whole stored output of one node of the owner's run (run details show it cut); anyone else's run,
    an unknown node and a node without output (failed, skipped) are a 404."""
    output = (
        NodeResult.objects.filter(run__owner=owner, run_id=run_id, node_id=node_id)
        .values_list("output", flat=True)
        .first()
    )
    if output is None:
        raise NotFound("No output for this node.")
    return output


def run_outputs(*, run: WorkflowRun) -> dict[str, Any]:
    results = NodeResult.objects.filter(run=run, node_type=engine.OUTPUT_KIND)
    return outputs_by_name(run=run, results=results)


def run_wait_finished(*, run: WorkflowRun, timeout_s: float) -> WorkflowRun:
    """The run, re-read until it has finished or `timeout_s` has passed (then still active)."""
    deadline = time.monotonic() + timeout_s
    while not run.is_finished and time.monotonic() < deadline:
        time.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        run.refresh_from_db(fields=["status", "completed_at", "error_summary"])
    return run


def run_node_results(*, run: WorkflowRun) -> QuerySet:
    # Nodes that never started (skipped, cancelled) come after those that did, on every database.
    return (
        NodeResult.objects.filter(run=run)
        .select_related("reused_from")
        .order_by(F("started_at").asc(nulls_last=True), "id")
    )


def run_children(*, run: WorkflowRun) -> QuerySet:
    """The runs this run's Sub-workflow and Map nodes started (index `run_parent_created`), by node; a Map's
    in item order (its workers take items as they free up, so they do not start in that order)."""
    order = ("parent_node_id", F("parent_item").asc(nulls_last=True), "created_at", "id")
    children = WorkflowRun.objects.filter(parent_run=run).order_by(*order)
    return children.only("id", "parent_node_id", "parent_item", "status", "created_at")


def run_logs(*, run: WorkflowRun) -> QuerySet:
    return ExecutionLog.objects.filter(run=run).order_by("timestamp", "id")


def run_settled_outputs(*, run: WorkflowRun) -> dict[str, dict]:
    """Outputs of the nodes this run already settled (an empty one for a node with none: skipped, failed),
    so that a recovered or resumed run does not redo them."""
    rows = NodeResult.objects.filter(run=run).values_list("node_id", "output")
    return {node_id: output or {} for node_id, output in rows}


def approvals_waiting(*, owner: User) -> QuerySet:
    """The owner's approvals still waiting for a decision (their run waits), oldest first, with the run's
    workflow (index `approval_owner_open`)."""
    waiting = Approval.objects.filter(owner=owner, decision="", run__status=RunStatus.WAITING)
    # The run and workflow show their names and ids; their graphs stay in the database.
    graphs = [f"run__{name}" for name in _SUMMARY_DEFERRED] + ["run__workflow__nodes", "run__workflow__edges"]
    return waiting.select_related("run__workflow").defer(*graphs).order_by("requested_at", "id")


def approval_get(*, owner: User, run_id: str, node_id: str) -> Approval:
    """The owner's approval of a node of their run; anyone else's does not exist (404)."""
    return get_or_not_found(
        Approval.objects.filter(owner=owner), message="No such approval.", run_id=run_id, node_id=node_id
    )
