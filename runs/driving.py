"""The worker's side of a run (the actor's body): claim it, drive the engine over it with its progress
written as it goes, and record the outcome.

The claim is a conditional UPDATE (queued -> running, or a running run whose heartbeat went stale ->
`recoveries + 1`); `recoveries` is the fencing token: the final write only lands while it still equals the
claim's. Child runs are driven here too, in their calling node's thread (`runs.children`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

import engine
from core.engine_config import run_options
from runs.approvals import RunApprovals, approvals_request
from runs.changes import run_claimed, run_ended_changed
from runs.children import ChildRunAllowance, ChildRuns, Lineage
from runs.ending import node_counts
from runs.events import RunEventPublisher
from runs.execution import RunGuard, RunHeartbeat, execution_context
from runs.metrics import QUEUE_WAIT, run_finished_count
from runs.models import NodeResult, NodeStatus, RunStatus, WorkflowRun
from runs.persistence import RunEventSink
from runs.reconnect import reconnecting
from runs.reuse import OwnerResultStore
from runs.scopes import scope_targets
from runs.selectors import run_settled_outputs
from runs.tracing import run_span, run_span_end
from workflows.callees import graph_callees_resolve, workflow_caller

logger = logging.getLogger(__name__)


def run_execute(*, run_id: str, listener: Callable[[engine.Event], None] | None = None) -> WorkflowRun | None:
    """Claim the run, execute it with the engine writing progress as it goes, and record the outcome."""
    claim = _run_claim(run_id=run_id)
    if claim is None:
        logger.info("run %s is not claimable; message dropped", run_id)
        return None
    run, first_start = claim
    # Nodes with a result are not run again: a recovered run's succeeded nodes (its other results were deleted
    # by the claim), and everything a run that waited for a decision had settled before it waited. A run's
    # first start has none: only a worker writes results of a run that can still be claimed.
    done = {} if first_start else run_settled_outputs(run=run)
    options = run_options()
    lineage = Lineage(
        chain=(),
        caps=engine.LLMCaps(max_calls=options.max_llm_calls, max_tokens=options.max_llm_tokens),
        children=ChildRunAllowance(settings.RUN_MAX_CHILD_RUNS),
    )
    guard = RunGuard(run_id=str(run.id), fence=run.recoveries)
    return _run_drive(run=run, guard=guard, lineage=lineage, done=done, listener=listener)


def _run_claim(*, run_id: str) -> tuple[WorkflowRun, bool] | None:
    """Take the run for this worker, and whether this is its first start; None when it is not ours to run
    (finished, cancelled, or alive elsewhere). A running run whose heartbeat went stale is taken over: its
    worker died."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS)
    # A held run (runs.admission) is not claimable: a stray message must not run it past its owner's place.
    claimed = WorkflowRun.objects.filter(
        pk=run_id, status=RunStatus.QUEUED, admitted_at__isnull=False
    ).update(
        status=RunStatus.RUNNING, started_at=Coalesce(F("started_at"), Value(now)), heartbeat_at=now
    ) or WorkflowRun.objects.filter(
        pk=run_id,
        status=RunStatus.RUNNING,
        heartbeat_at__lt=stale_before,
        cancel_requested_at__isnull=True,
        recoveries__lt=settings.RUN_MAX_RECOVERIES,
    ).update(recoveries=F("recoveries") + 1, heartbeat_at=now)
    if not claimed:
        return None
    # Its owner and workflow are what executing it reads first (its context, its callees).
    run = WorkflowRun.objects.select_related("owner", "workflow").get(pk=run_id)
    first_start = run.started_at == now
    if first_start:  # it waited in the queue since it was created
        QUEUE_WAIT.observe((now - run.created_at).total_seconds())
    if run.recoveries:
        # Only succeeded nodes are kept; anything else of the dead attempt is recomputed.
        NodeResult.objects.filter(run=run).exclude(status=NodeStatus.SUCCEEDED).delete()
    run_claimed(run)
    return run, first_start


def _run_drive(
    *,
    run: WorkflowRun,
    guard: RunGuard,
    lineage: Lineage,
    done: Mapping[str, dict],
    listener: Callable[[engine.Event], None] | None = None,
) -> WorkflowRun | None:
    """Execute a claimed (or, for a child, just created) run, in its `run` span, and record its outcome."""
    with run_span(run) as span:
        ended = _run_drive_engine(run=run, guard=guard, lineage=lineage, done=done, listener=listener)
        run_span_end(span, ended)
        return ended


def _run_drive_engine(
    *,
    run: WorkflowRun,
    guard: RunGuard,
    lineage: Lineage,
    done: Mapping[str, dict],
    listener: Callable[[engine.Event], None] | None = None,
) -> WorkflowRun | None:
    publisher = RunEventPublisher(run=run)
    store = OwnerResultStore(owner=run.owner, trusted_run_id=run.resumed_from_id)
    sink = RunEventSink(
        run=run,
        guard=guard,
        already_done=len(done),
        listener=listener,
        publisher=publisher,
        origins=store.origins,
    )
    try:
        targets = scope_targets(graph=run.graph, scope=run.scope, node_ids=run.node_ids)
        context = execution_context(owner=run.owner, run_id=run.id)
        context.approvals = RunApprovals(run_id=str(run.id))
        caller = workflow_caller(run.workflow)
        graph, issues = graph_callees_resolve(
            owner=run.owner,
            graph=run.graph,
            caller=caller,
            chain=lineage.chain,
            for_run=True,
            defaults=context.defaults,
            digests=context.image_digests,
        )
        if issues:
            raise engine.GraphInvalid(issues)
        context.workflows = ChildRuns(
            parent=run,
            lineage=Lineage(
                chain=(*lineage.chain, caller),
                caps=lineage.caps,
                children=lineage.children,
                parent_stopped=guard,
            ),
            drive=_run_drive,
        )
        with RunHeartbeat(run_id=str(run.id), fence=run.recoveries):
            try:
                outcome = engine.execute_graph(
                    engine.bind_inputs(graph, run.inputs),
                    context=context,
                    sink=sink,
                    options=run_options(),
                    targets=None if targets is None else [n for n in targets if n not in done],
                    reuse=engine.ReuseMode(run.reuse),
                    store=store,
                    finished_outputs=done,
                    should_cancel=sink.should_cancel,
                    caps=lineage.caps,
                )
            finally:
                sink.flush()  # what is held is written before the end: the tally is then the final counters
    except engine.GraphInvalid as exc:
        summary = f"Invalid graph: {exc}"
        return _run_finish(
            run=run, guard=guard, status=RunStatus.FAILED, summary=summary, publisher=publisher
        )
    except Exception as exc:
        logger.exception("run %s crashed", run.id)
        summary = f"Internal error: {type(exc).__name__}"
        return _run_finish(
            run=run, guard=guard, status=RunStatus.FAILED, summary=summary, publisher=publisher
        )
    if guard.lost:
        logger.warning("run %s was taken over by another worker; this attempt stops", run.id)
        return None
    status = RunStatus.CANCELLED if guard.cancelled else RunStatus(outcome.status.value)
    summary = outcome.error_summary or ""
    if status == RunStatus.WAITING:
        reconnecting(lambda: approvals_request(run=run, requests=outcome.awaiting))
    elif status == RunStatus.SUCCEEDED and run.error_summary:
        # A failure before the run waited decides its end (its node is not run again).
        status, summary = RunStatus.FAILED, run.error_summary
    return _run_finish(
        run=run, guard=guard, status=status, summary=summary, publisher=publisher, counts=sink.totals()
    )


def _run_finish(
    *,
    run: WorkflowRun,
    guard: RunGuard,
    status: str,
    summary: str,
    publisher: RunEventPublisher,
    counts: dict[str, Any] | None = None,
) -> WorkflowRun | None:
    """`counts`: the run's counters and usage as its sink wrote them; None (a crash, whose last batch may not
    be written) counts them from the stored results."""
    fields = reconnecting(
        lambda: _run_record_outcome(run=run, guard=guard, status=status, summary=summary, counts=counts)
    )
    if fields is None:
        return None
    for name, value in fields.items():
        setattr(run, name, value)
    run_ended_changed(run)
    if status != RunStatus.WAITING:
        run_finished_count(status=status, duration_ms=run.duration_ms)
    publisher.end(run)
    return run


def _run_record_outcome(
    *, run: WorkflowRun, guard: RunGuard, status: str, summary: str, counts: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Write the final status and counters, unless the run is no longer this worker's (then None)."""
    now = timezone.now()
    started = run.started_at or now
    fields = {
        "status": status,
        **(node_counts(run) if counts is None else counts),
        "duration_ms": max(0, round((now - started).total_seconds() * 1000)),
        "error_summary": summary,
        # A waiting run is not over: it has no end yet, and no worker (nor heartbeat) until it is resumed.
        "completed_at": None if status == RunStatus.WAITING else now,
        "heartbeat_at": now,
    }
    ours = WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, recoveries=guard.fence)
    return fields if ours.update(**fields) else None
