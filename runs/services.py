"""Writes of the runs app: create, execute, cancel, rerun, recover and purge runs.

Lifecycle (see runs/README.md): a run is created `queued` and its Dramatiq message is enqueued after the
transaction commits. A worker claims it with a conditional UPDATE (queued -> running), runs the engine
and writes each node result and log line as it happens, then the final status. While running it
refreshes `heartbeat_at`; the sweeper (every worker process, and `manage.py recover_runs`) re-enqueues a
run whose heartbeat went stale, up to RUN_MAX_RECOVERIES times, then marks it failed. `recoveries` is
the fencing token: a worker only writes to a run whose `recoveries` still equals its claim's.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from dramatiq import Message

import engine
from accounts.models import User
from core.cache import owner_caches_invalidate
from core.engine_config import graph_limits, run_options
from runs.broker import PromptRedisBroker
from runs.events import RunEventPublisher
from runs.execution import (
    ChildRunGuard,
    RunGuard,
    RunHeartbeat,
    execution_context,
    planning_context,
    reconnecting,
)
from runs.inputs import run_inputs_validate
from runs.models import (
    ACTIVE_RUN_STATUSES,
    NodeResult,
    NodeStatus,
    ReuseMode,
    RunScope,
    RunStatus,
    RunTrigger,
    WorkflowRun,
    workflow_run_summary,
)
from runs.outputs import outputs_by_name
from runs.persistence import RunEventSink
from runs.reuse import OwnerResultStore
from runs.selectors import run_active_count, run_succeeded_outputs
from runs.tasks import execute_run
from uploads.services import graph_upload_issues
from workflows.callees import Caller, graph_callees_resolve, workflow_caller
from workflows.models import Workflow, WorkflowVersion
from workflows.selectors import workflow_published_version

logger = logging.getLogger(__name__)


class TooManyActiveRuns(Exception):
    pass


class RunAlreadyFinished(Exception):
    """The run had ended when the cancel was attempted; `status` is how it ended, read at that moment."""

    def __init__(self, message: str, *, status: str) -> None:
        super().__init__(message)
        self.status = status


class RunStillActive(Exception):
    pass


@dataclass(frozen=True)
class RecoveryReport:
    requeued: int = 0
    failed: int = 0
    cancelled: int = 0
    resent: int = 0


# Creating -----------------------------------------------------------------------------------


def _scope_issues(graph: dict[str, Any], scope: str, node_ids: Sequence[str]) -> list[engine.ValidationIssue]:
    known = {node.get("id") for node in graph["nodes"] if isinstance(node, dict)}
    issues = [
        engine.ValidationIssue(f"nodeIds[{i}]", f"no node with id {node_id!r} in the graph")
        for i, node_id in enumerate(node_ids)
        if node_id not in known
    ]
    if scope == RunScope.NODE and len(node_ids) != 1:
        issues.append(engine.ValidationIssue("nodeIds", "a node run needs exactly one node id"))
    elif scope == RunScope.FROM and len(node_ids) != 1:
        issues.append(engine.ValidationIssue("nodeIds", "a run from a node needs exactly one node id"))
    elif scope == RunScope.SELECTION and not node_ids:
        issues.append(engine.ValidationIssue("nodeIds", "a selection run needs at least one node id"))
    elif scope == RunScope.FULL and node_ids:
        issues.append(engine.ValidationIssue("nodeIds", "a full run takes no node ids"))
    return issues


def _run_validate(
    *,
    owner: User,
    graph: dict[str, Any],
    scope: str,
    node_ids: list[str],
    workflow: Workflow | None = None,
    context: engine.ExecutionContext | None = None,
) -> dict[str, Any]:
    """The graph with its callees resolved (Sub-workflow and Map nodes), once it is valid to run.

    `context` gives the callees' content keys the model defaults and image digests a plan needs.
    """
    graph, issues = graph_callees_resolve(
        owner=owner,
        graph=graph,
        caller=workflow_caller(workflow),
        for_run=True,
        defaults=context.defaults if context else None,
        digests=context.image_digests if context else None,
    )
    if not issues:
        issues = engine.validate_graph(graph, limits=graph_limits())
    if issues := issues + graph_upload_issues(owner=owner, graph=graph):
        raise engine.GraphInvalid(issues)
    if issues := _scope_issues(graph, scope, node_ids):
        raise engine.GraphInvalid(issues)
    return graph


def _scope_targets(*, graph: dict[str, Any], scope: str, node_ids: Sequence[str]) -> list[str] | None:
    """The nodes a run is asked to run: None for all of them (engine.execute_graph's `targets`)."""
    if scope == RunScope.FULL:
        return None
    if scope == RunScope.FROM:
        return engine.downstream_of(graph, node_ids[0], limits=graph_limits())
    return list(node_ids)


def run_plan(
    *,
    owner: User,
    graph: dict[str, Any],
    scope: str = RunScope.FULL,
    node_ids: Sequence[str] = (),
    reuse: str = ReuseMode.AUTO,
    inputs: Mapping[str, Any] | None = None,
    workflow: Workflow | None = None,
) -> tuple[engine.RunPlan, engine.PlannedCalls]:
    """What executing this graph with these input values would do, without running anything: each node's
    fate (run, reuse with its source, skip) and the LLM calls it foresees (a Sub-workflow's callee's
    included, a Map's per item; the callees' own reuse is not planned)."""
    node_ids = list(dict.fromkeys(node_ids))
    context = planning_context(owner=owner)
    graph = _run_validate(
        owner=owner, graph=graph, scope=scope, node_ids=node_ids, workflow=workflow, context=context
    )
    values = run_inputs_validate(
        owner=owner, graph=graph, values=inputs or {}, require_all=scope == RunScope.FULL
    )
    return engine.plan_graph(
        engine.bind_inputs(graph, values),
        context=context,
        options=run_options(),
        targets=_scope_targets(graph=graph, scope=scope, node_ids=node_ids),
        reuse=engine.ReuseMode(reuse),
        store=OwnerResultStore(owner=owner),
    )


@transaction.atomic
def run_create(
    *,
    owner: User,
    graph: dict[str, Any],
    workflow: Workflow | None = None,
    workflow_version: int | None = None,
    scope: str = RunScope.FULL,
    node_ids: Sequence[str] = (),
    reuse: str = ReuseMode.AUTO,
    resumed_from: WorkflowRun | None = None,
    inputs: Mapping[str, Any] | None = None,
    trigger: str = RunTrigger.EDITOR,
    trigger_ref: str = "",
    enqueue: bool = True,
) -> WorkflowRun:
    """Validate the graph, scope and input values, create a queued run and enqueue it once the
    transaction commits. Raises engine.GraphInvalid, engine.InputsInvalid or TooManyActiveRuns."""
    node_ids = list(dict.fromkeys(node_ids))
    # The snapshot keeps the callees as resolved now (the run page names them); the run resolves again
    # when it executes, as it binds its inputs then.
    graph = _run_validate(owner=owner, graph=graph, scope=scope, node_ids=node_ids, workflow=workflow)
    values = run_inputs_validate(
        owner=owner, graph=graph, values=inputs or {}, require_all=scope == RunScope.FULL
    )
    # Serialise one user's creations so that two requests cannot both slip under the active-run cap.
    User.objects.select_for_update().filter(pk=owner.pk).exists()
    if run_active_count(owner=owner) >= settings.RUN_MAX_ACTIVE_PER_USER:
        raise TooManyActiveRuns(
            f"You already have {settings.RUN_MAX_ACTIVE_PER_USER} runs queued or running; "
            "wait for one to finish or cancel one."
        )
    now = timezone.now()
    run = WorkflowRun(
        owner=owner,
        workflow=workflow,
        workflow_version=workflow_version,
        nodes=graph["nodes"],
        edges=graph["edges"],
        scope=scope,
        node_ids=node_ids,
        reuse=reuse,
        resumed_from=resumed_from,
        inputs=values,
        trigger=trigger,
        trigger_ref=trigger_ref,
        total_nodes=len(node_ids) if node_ids else len(graph["nodes"]),
        heartbeat_at=now,  # for a queued run: when its message was last sent
        created_at=now,
    )
    if enqueue:
        _enqueue_on_commit(run)
    run.save()
    _run_changed(run)
    return run


def _enqueue_on_commit(run: WorkflowRun) -> None:
    """Build the message now (its id goes into trigger_id in the same write), send it after commit."""
    message: Message = execute_run.message(str(run.id))
    run.trigger_id = message.message_id

    def send() -> None:
        execute_run.broker.enqueue(message)
        from runs.worker import inprocess_worker_ensure

        inprocess_worker_ensure()

    # Robust: the run is committed whatever the broker says. An unreachable broker is logged, the run stays
    # queued and the sweeper re-sends it; a 500 here would invite a retry and a second run.
    transaction.on_commit(send, robust=True)


def _run_changed(run: WorkflowRun) -> None:
    """What follows every write of a run: its workflow's run summary is rewritten and its owner's cached
    payloads (runs and workflows) go stale."""
    if run.workflow_id is not None:
        workflow_ids = [run.workflow_id]
        reconnecting(lambda: _workflow_run_summaries_write(workflow_ids=workflow_ids))
    owner_caches_invalidate(owner_id=run.owner_id)


@transaction.atomic
def _workflow_run_summaries_write(*, workflow_ids: Collection[uuid.UUID]) -> None:
    """Store each workflow's run count and last run status, which the workflows app shows."""
    workflows = Workflow.objects.filter(pk__in=workflow_ids)
    # Lock first, count after: the count then sees every run committed before this writer's turn, so
    # of two runs finishing at once the later writer counts both.
    list(workflows.select_for_update().values_list("pk", flat=True))
    workflows.update(**workflow_run_summary(WorkflowRun))


def run_rerun(*, run: WorkflowRun, reuse: str = ReuseMode.AUTO) -> WorkflowRun:
    """A new run of the same graph snapshot, scope and input values."""
    return _run_again(run=run, reuse=reuse)


def run_start_published(
    *,
    workflow: Workflow,
    inputs: Mapping[str, Any],
    trigger: str,
    trigger_ref: str = "",
    reuse: str = ReuseMode.AUTO,
) -> WorkflowRun:
    """A full run of the workflow's published version (API, webhook and schedule runs), so that editing
    in the canvas changes nothing integrations run until the owner publishes again.

    Raises workflows.selectors.WorkflowNotPublished when there is no published version.
    """
    version = workflow_published_version(workflow=workflow)
    return run_create(
        owner=workflow.owner,
        graph=version.graph,
        workflow=workflow,
        workflow_version=version.number,
        reuse=reuse,
        inputs=inputs,
        trigger=trigger,
        trigger_ref=trigger_ref,
    )


def run_resume(*, run: WorkflowRun) -> WorkflowRun:
    """A new run of the same snapshot and scope that reuses everything the old one did successfully
    (whatever the node's kind), so only its failed, skipped and cancelled nodes run."""
    if not run.is_finished:
        raise RunStillActive("The run is still running; cancel it or wait for it to finish.")
    return _run_again(run=run, reuse=ReuseMode.AUTO, resumed_from=run)


def _run_again(*, run: WorkflowRun, reuse: str, resumed_from: WorkflowRun | None = None) -> WorkflowRun:
    return run_create(
        owner=run.owner,
        graph=run.graph,
        workflow=run.workflow,
        workflow_version=run.workflow_version,
        scope=run.scope,
        node_ids=run.node_ids,
        reuse=reuse,
        resumed_from=resumed_from,
        inputs=run.inputs,
        trigger=RunTrigger.RERUN,
        trigger_ref=str(run.id),
    )


# Cancelling ---------------------------------------------------------------------------------


@transaction.atomic
def run_cancel(*, run: WorkflowRun) -> WorkflowRun:
    """A queued run is cancelled at once; a running one when its worker next checks (within a second)."""
    now = timezone.now()
    if WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED,
        cancel_requested_at=now,
        completed_at=now,
        error_summary="Cancelled before it started.",
    ):
        _unfinished_nodes_end(run=run, status=NodeStatus.CANCELLED, reason="run cancelled")
        transaction.on_commit(lambda: _run_publish_end(run_id=run.pk))
    elif not WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        cancel_requested_at=Coalesce(F("cancel_requested_at"), Value(now))
    ):
        final_status = WorkflowRun.objects.values_list("status", flat=True).get(pk=run.pk)
        raise RunAlreadyFinished("The run has already finished.", status=final_status)
    run.refresh_from_db()
    _run_changed(run)
    return run


def _run_publish_end(*, run_id: uuid.UUID) -> None:
    """Tell live readers that a run no worker is running has ended."""
    run = WorkflowRun.objects.get(pk=run_id)
    RunEventPublisher(run=run).end(run)


def _unfinished_nodes_end(*, run: WorkflowRun, status: str, reason: str) -> None:
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


# Executing (the actor's body) ---------------------------------------------------------------


def _run_claim(*, run_id: str) -> WorkflowRun | None:
    """Take the run for this worker, or None when it is not ours to run (finished, cancelled, or alive
    elsewhere). A running run whose heartbeat went stale is taken over: its worker died."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS)
    claimed = WorkflowRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
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
    run = WorkflowRun.objects.get(pk=run_id)
    if run.recoveries:
        # Only succeeded nodes are kept; anything else of the dead attempt is recomputed.
        NodeResult.objects.filter(run=run).exclude(status=NodeStatus.SUCCEEDED).delete()
    _run_changed(run)
    return run


class _ChildRunAllowance:
    """How many more child runs the whole tree under one top-level run may start (RUN_MAX_CHILD_RUNS): a Map
    over a long list, or Maps nested in Maps, would otherwise start as many runs as the items multiply to."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._left = limit
        self._lock = threading.Lock()

    @property
    def left(self) -> int:
        return self._left

    @property
    def refusal(self) -> str:
        """Why a call past the allowance is refused (a Map lists it per refused item)."""
        return f"this run may start at most {self.limit} child runs (RUN_MAX_CHILD_RUNS)"

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


@dataclass(frozen=True)
class _Lineage:
    """What a run inherits from the runs above it: the workflows that called it (for cycles and depth),
    the LLM caps and child-run allowance they all count against, and their cancel check (None for a
    top-level run)."""

    chain: tuple[Caller, ...]
    caps: engine.LLMCaps
    children: _ChildRunAllowance
    parent_stopped: Callable[[], bool] | None = None


def run_execute(*, run_id: str, listener: Callable[[engine.Event], None] | None = None) -> WorkflowRun | None:
    """Claim the run, execute it with the engine writing progress as it goes, and record the outcome."""
    run = _run_claim(run_id=run_id)
    if run is None:
        logger.info("run %s is not claimable; message dropped", run_id)
        return None
    # A recovered run's succeeded nodes are not run again (its other results were deleted by the claim).
    done = run_succeeded_outputs(run=run) if run.recoveries else {}
    options = run_options()
    lineage = _Lineage(
        chain=(),
        caps=engine.LLMCaps(max_calls=options.max_llm_calls, max_tokens=options.max_llm_tokens),
        children=_ChildRunAllowance(settings.RUN_MAX_CHILD_RUNS),
    )
    guard = RunGuard(run_id=str(run.id), fence=run.recoveries)
    return _run_drive(run=run, guard=guard, lineage=lineage, done=done, listener=listener)


def _run_drive(
    *,
    run: WorkflowRun,
    guard: RunGuard,
    lineage: _Lineage,
    done: Mapping[str, dict],
    listener: Callable[[engine.Event], None] | None = None,
) -> WorkflowRun | None:
    """Execute a claimed (or, for a child, just created) run and record its outcome."""
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
        targets = _scope_targets(graph=run.graph, scope=run.scope, node_ids=run.node_ids)
        context = execution_context(owner=run.owner, run_id=run.id)
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
        context.workflows = _ChildRuns(
            parent=run,
            lineage=_Lineage(
                chain=(*lineage.chain, caller),
                caps=lineage.caps,
                children=lineage.children,
                parent_stopped=guard,
            ),
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
                sink.flush()  # before the final counters are counted from the results
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
    return _run_finish(run=run, guard=guard, status=status, summary=summary, publisher=publisher)


class _ChildRuns:
    """`engine.WorkflowCaller` for one run: each call records a child run of the same owner and executes it
    right here, in the calling node's thread (never through the queue: a bounded worker pool would
    deadlock waiting on its own children), counting against the parent's caps, stopping with it."""

    def __init__(self, *, parent: WorkflowRun, lineage: _Lineage) -> None:
        self.parent = parent
        self.lineage = lineage

    def children_left(self) -> engine.ChildRunsLeft:
        return engine.ChildRunsLeft(self.lineage.children.left, self.lineage.children.refusal)

    def call(
        self,
        *,
        node_id: str,
        callee: Mapping[str, Any],
        inputs: Mapping[str, Any],
        log: Callable[[str, str], None],
        stopped: Callable[[], bool],
        item: int | None = None,
    ) -> engine.ChildOutcome:
        # Both refusals come before any query: a Map past the allowance, or one whose run has ended, must
        # not cost the database a connection per item.
        if stopped():
            return engine.ChildOutcome("", "cancelled", error="the calling run has stopped")
        if not self.lineage.children.take():
            return engine.ChildOutcome("", "refused", error=self.lineage.children.refusal)
        try:
            return self._call(
                node_id=node_id, callee=callee, inputs=inputs, log=log, stopped=stopped, item=item
            )
        finally:
            # This is a node's (or a Map worker's) thread: its connection is its own.
            connection.close()

    def _call(
        self,
        *,
        node_id: str,
        callee: Mapping[str, Any],
        inputs: Mapping[str, Any],
        log: Callable[[str, str], None],
        stopped: Callable[[], bool],
        item: int | None,
    ) -> engine.ChildOutcome:
        # The reads reconnect through a database restart, as every run-progress query does; the child's INSERT
        # is not retried (an answer lost after its commit would start the child twice).
        version = reconnecting(
            lambda: (
                WorkflowVersion.objects.select_related("workflow")
                .filter(pk=callee.get("versionId"), workflow__owner_id=self.parent.owner_id)
                .first()
            )
        )
        if version is None:
            return engine.ChildOutcome("", "failed", error="the called workflow no longer exists")
        try:
            values = run_inputs_validate(
                owner=self.parent.owner, graph=version.graph, values=inputs, require_all=True
            )
        except engine.InputsInvalid as exc:
            return engine.ChildOutcome("", "failed", error=str(exc))
        child = _child_run_create(
            parent=self.parent, node_id=node_id, item=item, version=version, inputs=values
        )
        label = f"child run {child.id}" + ("" if item is None else f" (item {item})")
        log("info", f"{label} of {version.name!r} v{version.number} started")
        parent_stopped = self.lineage.parent_stopped
        assert parent_stopped is not None
        # `stopped` answers without a query, as soon as the parent's engine has ended or the Map has failed;
        # the parent's guard reads its row (a cancel, or the run taken over).
        guard = ChildRunGuard(run_id=str(child.id), parent=lambda: stopped() or parent_stopped())
        finished = _run_drive(run=child, guard=guard, lineage=self.lineage, done={})
        status = finished.status if finished is not None else RunStatus.FAILED
        log("info" if status == RunStatus.SUCCEEDED else "warning", f"{label} {status}")
        if finished is None or status != RunStatus.SUCCEEDED:
            error = finished.error_summary if finished is not None else "the run was lost"
            return engine.ChildOutcome(str(child.id), str(status), error=error)
        results = NodeResult.objects.filter(run=child, node_type=engine.OUTPUT_KIND)
        outputs = reconnecting(lambda: outputs_by_name(run=child, results=results))
        return engine.ChildOutcome(str(child.id), str(status), outputs)


def _child_run_create(
    *, parent: WorkflowRun, node_id: str, item: int | None, version: WorkflowVersion, inputs: dict[str, Any]
) -> WorkflowRun:
    """A child run, already running (its parent's worker executes it): not queued, not counted against the
    active-run cap, which its parent already holds a place of."""
    now = timezone.now()
    child = WorkflowRun.objects.create(
        owner=parent.owner,
        workflow=version.workflow,
        workflow_version=version.number,
        nodes=version.nodes,
        edges=version.edges,
        status=RunStatus.RUNNING,
        reuse=parent.reuse,
        inputs=inputs,
        trigger=RunTrigger.SUBWORKFLOW,
        trigger_ref=str(parent.id),
        parent_run=parent,
        parent_node_id=node_id,
        parent_item=item,
        total_nodes=len(version.nodes),
        created_at=now,
        started_at=now,
        heartbeat_at=now,
    )
    _run_changed(child)
    return child


def _run_finish(
    *, run: WorkflowRun, guard: RunGuard, status: str, summary: str, publisher: RunEventPublisher
) -> WorkflowRun | None:
    fields = reconnecting(lambda: _run_record_outcome(run=run, guard=guard, status=status, summary=summary))
    if fields is None:
        return None
    for name, value in fields.items():
        setattr(run, name, value)
    _run_changed(run)
    publisher.end(run)
    return run


def _node_counts(run: WorkflowRun) -> dict[str, Any]:
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


def _run_record_outcome(
    *, run: WorkflowRun, guard: RunGuard, status: str, summary: str
) -> dict[str, Any] | None:
    """Write the final status and counters, unless the run is no longer this worker's (then None)."""
    now = timezone.now()
    started = run.started_at or now
    fields = {
        "status": status,
        **_node_counts(run),
        "duration_ms": max(0, round((now - started).total_seconds() * 1000)),
        "error_summary": summary,
        "completed_at": now,
        "heartbeat_at": now,
    }
    ours = WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, recoveries=guard.fence)
    return fields if ours.update(**fields) else None


# Recovering ---------------------------------------------------------------------------------


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
    for run in stale.only(*fields)[:100]:
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
                message: Message = execute_run.message(str(run.id))
                if seen.update(
                    status=RunStatus.QUEUED,
                    recoveries=F("recoveries") + 1,
                    heartbeat_at=now,
                    trigger_id=message.message_id,
                ):
                    transaction.on_commit(lambda message=message: execute_run.broker.enqueue(message))
                    _run_changed(run)
                    requeued += 1
    resend_before = now - timedelta(seconds=settings.RUN_QUEUED_RESEND_AFTER_SECONDS)
    lost = WorkflowRun.objects.filter(status=RunStatus.QUEUED, heartbeat_at__lt=resend_before)
    for run_id in lost.values_list("id", flat=True)[:100]:
        message = execute_run.message(str(run_id))
        still_lost = lost.filter(pk=run_id)
        if still_lost.update(heartbeat_at=now, trigger_id=message.message_id):
            execute_run.broker.enqueue(message)
            resent += 1
    report = RecoveryReport(requeued=requeued, failed=failed, cancelled=cancelled, resent=resent)
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


def _run_end_abandoned(seen: Any, run: WorkflowRun, status: str, reason: str, now: Any) -> bool:
    if not seen.update(status=status, error_summary=reason, completed_at=now):
        return False
    full = WorkflowRun.objects.get(pk=run.pk)
    _unfinished_nodes_end(run=full, status=NodeStatus.CANCELLED, reason=reason)
    WorkflowRun.objects.filter(pk=run.pk).update(**_node_counts(full))
    _run_changed(run)
    transaction.on_commit(lambda: _run_publish_end(run_id=run.pk))
    return True


# Purging ------------------------------------------------------------------------------------


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
    _workflow_run_summaries_write(workflow_ids={workflow_id for _, workflow_id in affected if workflow_id})
    for owner_id in {owner_id for owner_id, _ in affected}:
        owner_caches_invalidate(owner_id=owner_id)
    return by_model.get(WorkflowRun._meta.label, 0)
