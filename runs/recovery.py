"""Recovering and purging runs: the sweeper that restarts runs whose worker died (and re-sends lost
messages), and the deletion of old or unwanted runs.

The sweeper runs in every worker process (runs.middleware) and in `manage.py recover_runs`; every change
it makes is a conditional UPDATE on the state it saw, so many can sweep at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.cache import owner_caches_invalidate
from runs.admission import held_runs_release, runs_release
from runs.broker import PromptRedisBroker
from runs.changes import run_changed, workflow_run_summaries_write
from runs.decisions import approvals_time_out
from runs.ending import node_counts, run_ended, run_publish_end, unfinished_nodes_end
from runs.metrics import RECOVERIES, run_finished_count
from runs.models import ACTIVE_RUN_STATUSES, NodeStatus, RunStatus, WorkflowRun
from runs.tasks import execute_run
from runs.tracing import run_message

logger = logging.getLogger(__name__)

# Runs one sweep handles of each kind (stale running, lost queued): a backlog larger than that, after an
# outage, is worked through over the next sweeps instead of holding one sweep (and its locks) for long.
SWEEP_BATCH_SIZE = 100

# Called at the end of every sweep: apps above runs (evaluations) catch up there on what a lost message or a
# dead worker left undone.
_sweep_listeners: list[Callable[[], None]] = []


def sweep_listen(listener: Callable[[], None]) -> None:
    if listener not in _sweep_listeners:
        _sweep_listeners.append(listener)


@dataclass(frozen=True)
class RecoveryReport:
    requeued: int = 0
    failed: int = 0
    cancelled: int = 0
    resent: int = 0
    timed_out: int = 0  # approvals decided `timeout` (their runs queued again)


def runs_recover_stale() -> RecoveryReport:
    """Re-enqueue runs whose worker died, fail those that died too often, re-send lost queued messages.

    Safe to run from many processes at once: every change is a conditional UPDATE on the state it saw.
    """
    _dead_workers_messages_requeue()
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS)
    requeued = failed = cancelled = resent = 0
    stale = WorkflowRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale_before)
    fields = ("id", "owner_id", "workflow_id", "recoveries", "cancel_requested_at", "parent_run_id")
    for run in stale.only(*fields)[:SWEEP_BATCH_SIZE]:
        seen = WorkflowRun.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, recoveries=run.recoveries, heartbeat_at__lt=stale_before
        )
        with transaction.atomic():
            if run.cancel_requested_at is not None:
                if _run_end_abandoned(seen, run, RunStatus.CANCELLED, "Cancelled.", now):
                    cancelled += 1
            elif run.parent_run_id is not None:
                # A child run only runs inside its parent's worker; the recovered parent starts a new one.
                reason = "The worker running this child run (and its parent) stopped responding."
                if _run_end_abandoned(seen, run, RunStatus.FAILED, reason, now):
                    failed += 1
            elif run.recoveries >= settings.RUN_MAX_RECOVERIES:
                reason = (
                    f"The worker running this run stopped responding {run.recoveries + 1} times "
                    f"(no heartbeat for {settings.RUN_STALE_AFTER_SECONDS:g} s); giving up."
                )
                if _run_end_abandoned(seen, run, RunStatus.FAILED, reason, now):
                    failed += 1
            else:
                message = run_message(
                    execute_run, run.id, trace_id=run.trace_id, parent_span_id=run.trace_parent_id
                )
                if seen.update(
                    status=RunStatus.QUEUED,
                    recoveries=F("recoveries") + 1,
                    heartbeat_at=now,
                    trigger_id=message.message_id,
                    # It keeps its owner's place: it held one while it ran (runs.admission).
                    admitted_at=Coalesce(F("admitted_at"), Value(now)),
                ):
                    transaction.on_commit(lambda message=message: execute_run.broker.enqueue(message))
                    run_changed(run)
                    requeued += 1
    resend_before = now - timedelta(seconds=settings.RUN_QUEUED_RESEND_AFTER_SECONDS)
    # A held run has no message to lose (runs.admission): the release below admits it.
    lost = WorkflowRun.objects.filter(
        status=RunStatus.QUEUED, admitted_at__isnull=False, heartbeat_at__lt=resend_before
    )
    for run_id, trace_id, parent_span_id in lost.values_list("id", "trace_id", "trace_parent_id")[
        :SWEEP_BATCH_SIZE
    ]:
        message = run_message(execute_run, run_id, trace_id=trace_id, parent_span_id=parent_span_id)
        still_lost = lost.filter(pk=run_id)
        if still_lost.update(heartbeat_at=now, trigger_id=message.message_id):
            execute_run.broker.enqueue(message)
            resent += 1
    held_runs_release(limit=SWEEP_BATCH_SIZE, actor=execute_run)
    # A waiting run has no worker and no heartbeat: it is never stale; only its approvals' deadlines run.
    timed_out = approvals_time_out(limit=SWEEP_BATCH_SIZE)
    for listener in _sweep_listeners:
        listener()
    report = RecoveryReport(
        requeued=requeued, failed=failed, cancelled=cancelled, resent=resent, timed_out=timed_out
    )
    for outcome in ("requeued", "failed", "cancelled", "resent"):
        if count := getattr(report, outcome):
            RECOVERIES.labels(outcome=outcome).inc(count)
    if report != RecoveryReport():
        logger.warning("stale runs recovered: %s", report)
    return report


def _dead_workers_messages_requeue() -> None:
    """On the Redis broker, the messages a dead worker process had fetched go back to their queue now (its
    queued runs would otherwise wait for Dramatiq's random maintenance or RUN_QUEUED_RESEND_AFTER_SECONDS).
    RabbitMQ returns them itself when the dead worker's connection drops."""
    broker = execute_run.broker
    if not isinstance(broker, PromptRedisBroker):
        return
    try:
        broker.requeue_dead_workers_messages()
    except redis.RedisError:
        # The runs' own recovery below does not need the broker to be up.
        logger.warning("messages of dead workers not requeued: the broker is unreachable", exc_info=True)


def _run_end_abandoned(
    seen: QuerySet[WorkflowRun], run: WorkflowRun, status: str, reason: str, now: datetime
) -> bool:
    if not seen.update(status=status, error_summary=reason, completed_at=now):
        return False
    full = WorkflowRun.objects.get(pk=run.pk)
    unfinished_nodes_end(run=full, status=NodeStatus.CANCELLED, reason=reason)
    WorkflowRun.objects.filter(pk=run.pk).update(**node_counts(full))
    run_changed(run)
    run_finished_count(status=status, duration_ms=None)
    if run.parent_run_id is None:  # after the commit, as in run_cancel: no lock held while it waits for one
        transaction.on_commit(lambda: runs_release(owner_id=run.owner_id, actor=execute_run), robust=True)
    transaction.on_commit(lambda: run_publish_end(run_id=run.pk))
    transaction.on_commit(lambda: run_ended(WorkflowRun.objects.get(pk=run.pk)), robust=True)
    return True


def runs_purge(*, older_than: timedelta, batch_size: int = 500) -> int:
    """Delete finished runs created before now - older_than, with their node results and logs."""
    cutoff = timezone.now() - older_than
    old = WorkflowRun.objects.filter(created_at__lt=cutoff).exclude(status__in=ACTIVE_RUN_STATUSES)
    deleted = 0
    while batch := list(old.values_list("id", flat=True)[:batch_size]):
        deleted += runs_delete(runs=WorkflowRun.objects.filter(pk__in=batch))
    return deleted


@transaction.atomic
def runs_delete(*, runs: QuerySet[WorkflowRun]) -> int:
    """Delete these runs with their node results and logs; every cached view of them goes at once."""
    affected = list(runs.values_list("owner_id", "workflow_id").distinct())
    # Results and logs have nothing depending on them, so Django deletes them with one
    # DELETE ... WHERE run_id IN (...) each, without loading them.
    _, by_model = runs.delete()
    workflow_run_summaries_write(workflow_ids={workflow_id for _, workflow_id in affected if workflow_id})
    for owner_id in {owner_id for owner_id, _ in affected}:
        owner_caches_invalidate(owner_id=owner_id)
    return by_model.get(WorkflowRun._meta.label, 0)
