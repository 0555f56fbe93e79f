"""Ending a run: its counters counted from its results, and what a run no engine is running (cancelled
while queued, abandoned by a dead worker) gets in place of the engine's end: results for its unfinished
nodes and the live `end` event."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q, Sum

from runs.events import RunEventPublisher
from runs.models import NodeResult, NodeStatus, WorkflowRun

logger = logging.getLogger(__name__)

# Called with every run that has ended (whatever ended it); apps above runs (evaluations) register here,
# since runs may not import them.
RunEndListener = Callable[[WorkflowRun], None]
_run_end_listeners: list[RunEndListener] = []


def run_end_listen(listener: RunEndListener) -> None:
    if listener not in _run_end_listeners:
        _run_end_listeners.append(listener)


def run_ended(run: WorkflowRun) -> None:
    """Tell the listeners that `run` has ended. A listener's failure is logged, never the run's: the run's
    outcome is already written, and the sweeper calls the listeners' owners again (runs.recovery)."""
    for listener in _run_end_listeners:
        try:
            listener(run)
        except Exception:
            logger.exception("a run-end listener failed for run %s", run.pk)


def node_counts(run: WorkflowRun) -> dict[str, Any]:
    """The run's counters of finished nodes and its model usage, counted from its results."""
    counts = NodeResult.objects.filter(run=run).aggregate(
        succeeded_nodes=Count("id", filter=Q(status=NodeStatus.SUCCEEDED)),
        failed_nodes=Count("id", filter=Q(status=NodeStatus.FAILED)),
        skipped_nodes=Count("id", filter=Q(status=NodeStatus.SKIPPED)),
        reused_nodes=Count("id", filter=Q(status=NodeStatus.REUSED)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cost=Sum("cost"),
    )
    return {
        **counts,
        "input_tokens": counts["input_tokens"] or 0,
        "output_tokens": counts["output_tokens"] or 0,
    }


def unfinished_nodes_end(*, run: WorkflowRun, status: str, reason: str) -> None:
    """Give every node in the run's scope that has no result one with `status` (no engine is running it)."""
    scope = run.node_ids or [node.get("id") for node in run.nodes if isinstance(node, dict)]
    types = {node.get("id"): node.get("type", "") for node in run.nodes if isinstance(node, dict)}
    NodeResult.objects.bulk_create(
        [
            NodeResult(
                run_id=run.pk,
                node_id=node_id,
                node_type=types.get(node_id) or "",
                status=status,
                error_kind="cancelled",
                error_message=reason,
            )
            for node_id in scope
            if isinstance(node_id, str)
        ],
        ignore_conflicts=True,
    )


def run_publish_end(*, run_id: uuid.UUID) -> None:
    """Tell live readers that a run no worker is running has ended."""
    run = WorkflowRun.objects.get(pk=run_id)
    RunEventPublisher(run=run).end(run)
