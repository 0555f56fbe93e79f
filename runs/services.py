"""Writes of the runs app that a caller starts from: plan, create, rerun, resume, start a published version
and cancel a run.

Lifecycle (see runs/README.md): a run is created `queued` and its Dramatiq message is enqueued after the
transaction commits; a worker then claims and drives it (runs.driving), and the sweeper recovers it if that
worker dies (runs.recovery).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from dramatiq import Message

import engine
from accounts.models import User
from connections.selectors import graph_auth_issues, graph_chain_issues
from core import tracing
from core.engine_config import graph_limits, run_options
from core.errors import CAP_RETRY_AFTER_SECONDS, DomainError, RunRefused
from runs.admission import owner_places_taken, run_admit, runs_release
from runs.changes import run_changed
from runs.ending import run_ended, run_publish_end, unfinished_nodes_end
from runs.execution import planning_context
from runs.idempotency import StartedRun, idempotency_key_check, run_start_idempotent
from runs.inputs import run_inputs_validate
from runs.metrics import run_finished_count, run_started_count
from runs.models import NodeStatus, ReuseMode, RunScope, RunStatus, RunTrigger, WorkflowRun
from runs.ratelimit import run_rate_limit_count
from runs.reuse import OwnerResultStore
from runs.scopes import scope_issues, scope_targets
from runs.tasks import execute_run
from runs.worker import inprocess_worker_ensure
from uploads.services import graph_upload_issues
from workflows.callees import graph_callees_resolve, workflow_caller
from workflows.models import Workflow
from workflows.selectors import workflow_published_version


class TooManyActiveRuns(RunRefused):
    http_status = 429
    code = "too_many_active_runs"


class RunAlreadyFinished(DomainError):
    """The run had ended when the cancel was attempted; `status` is how it ended, read at that moment."""

    http_status = 409
    code = "run_finished"


class RunStillActive(DomainError):
    """A resume of a run that is still queued or running; `status` is which."""

    http_status = 409
    code = "run_active"


# Creating -----------------------------------------------------------------------------------


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
    if (
        issues := issues
        + graph_upload_issues(owner=owner, graph=graph)
        + graph_chain_issues(owner=owner, graph=graph)
        + graph_auth_issues(owner=owner, graph=graph)
    ):
        raise engine.GraphInvalid(issues)
    if issues := scope_issues(graph, scope, node_ids):
        raise engine.GraphInvalid(issues)
    return graph


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
        targets=scope_targets(graph=graph, scope=scope, node_ids=node_ids),
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
    # Counted after the lock, in a statement of its own: under READ COMMITTED it then sees the run of the
    # creation that held the lock before us.
    active, admitted = owner_places_taken(owner_id=owner.pk)
    if active >= settings.RUN_MAX_ACTIVE_PER_USER:
        raise TooManyActiveRuns(
            f"You already have {settings.RUN_MAX_ACTIVE_PER_USER} runs queued or running; "
            "wait for one to finish or cancel one.",
            retry_after=CAP_RETRY_AFTER_SECONDS,
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
    # The span starting it (a request's, a schedule's firing, an MCP call) is the parent of its `run` span.
    run.trace_id, run.trace_parent_id = tracing.current_trace_ids()
    if not enqueue:  # the caller sends (or executes) it itself
        run.admitted_at = now
    elif (message := run_admit(run, admitted=admitted, actor=execute_run)) is not None:
        _send_on_commit(message)
    run.save()
    run_changed(run)
    run_started_count(trigger=trigger)
    return run


def _send_on_commit(message: Message) -> None:
    def send() -> None:
        execute_run.broker.enqueue(message)
        inprocess_worker_ensure()

    # Robust: the run is committed whatever the broker says. An unreachable broker is logged, the run stays
    # queued and the sweeper re-sends it; a 500 here would invite a retry and a second run.
    transaction.on_commit(send, robust=True)


def run_start(
    *,
    owner: User,
    trigger: str = RunTrigger.API,
    trigger_ref: str = "",
    workflow: Workflow | None = None,
    graph: dict[str, Any] | None = None,
    workflow_version: int | None = None,
    scope: str = RunScope.FULL,
    node_ids: Sequence[str] = (),
    reuse: str = ReuseMode.AUTO,
    inputs: Mapping[str, Any] | None = None,
    again: WorkflowRun | None = None,
    resume: bool = False,
    idempotency_key: str | None = None,
    request_digest: str = "",
) -> StartedRun:
    """Start a run as every starter does (the editor, the API, webhooks, schedules): count it against the
    owner's EXECUTE_RATE_LIMIT, answer a repeated Idempotency-Key with its first run, and create the run:
    `graph` as given (a version of `workflow`, or unsaved), without one the published version of `workflow`
    with `inputs`, or with `again` a rerun (or with `resume` a resume) of that run.

    The refusals are RunRefused (RunRateLimited, IdempotencyKeyInvalid, IdempotencyKeyReused,
    WorkflowNotPublished, TooManyActiveRuns), RunStillActive for a resume, and engine.GraphInvalid or
    engine.InputsInvalid.
    """
    started_from = again or workflow
    if started_from is not None and started_from.owner_id != owner.pk:
        raise ValueError("a run can only be started by its owner")
    run_rate_limit_count(owner_id=owner.pk)
    key = idempotency_key_check(idempotency_key)

    def create() -> WorkflowRun:
        if again is not None:
            return run_resume(run=again) if resume else run_rerun(run=again, reuse=reuse)
        if graph is None:
            if workflow is None:
                raise ValueError("a run needs a graph or a published workflow")
            return run_start_published(
                owner=owner,
                workflow=workflow,
                inputs=inputs or {},
                trigger=trigger,
                trigger_ref=trigger_ref,
                reuse=reuse,
            )
        return run_create(
            owner=owner,
            graph=graph,
            workflow=workflow,
            workflow_version=workflow_version,
            scope=scope,
            node_ids=node_ids,
            reuse=reuse,
            inputs=inputs,
            trigger=trigger,
            trigger_ref=trigger_ref,
        )

    return run_start_idempotent(owner=owner, key=key, digest=request_digest, start=create)


def run_rerun(*, run: WorkflowRun, reuse: str = ReuseMode.AUTO) -> WorkflowRun:
    """A new run of the same graph snapshot, scope and input values."""
    return _run_again(run=run, reuse=reuse)


def run_start_published(
    *,
    owner: User,
    workflow: Workflow,
    inputs: Mapping[str, Any],
    trigger: str,
    trigger_ref: str = "",
    reuse: str = ReuseMode.AUTO,
) -> WorkflowRun:
    """A full run of the workflow's published version (API, webhook and schedule runs), so that editing
    in the canvas changes nothing integrations run until the owner publishes again.

    `owner` is the workflow's owner, passed in (run_start checked it) so as not to load the user again.
    Raises workflows.selectors.WorkflowNotPublished when there is no published version.
    """
    version = workflow_published_version(workflow=workflow)
    return run_create(
        owner=owner,
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
        raise RunStillActive(
            "The run is still running; cancel it or wait for it to finish.", status=run.status
        )
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
    """A queued or waiting run is cancelled at once; a running one when its worker next checks (within a
    second)."""
    now = timezone.now()
    summary = "Cancelled while waiting for approval." if run.status == RunStatus.WAITING else None
    if WorkflowRun.objects.filter(pk=run.pk, status__in=(RunStatus.QUEUED, RunStatus.WAITING)).update(
        status=RunStatus.CANCELLED,
        cancel_requested_at=now,
        completed_at=now,
        error_summary=summary or "Cancelled before it started.",
    ):
        unfinished_nodes_end(run=run, status=NodeStatus.CANCELLED, reason="run cancelled")
        run_finished_count(status=RunStatus.CANCELLED, duration_ms=None)
        # After the commit: a release takes the owner's row lock, which must never wait while this
        # transaction holds a run row that a concurrent release could be admitting.
        transaction.on_commit(lambda: runs_release(owner_id=run.owner_id, actor=execute_run), robust=True)
        transaction.on_commit(lambda: run_publish_end(run_id=run.pk))
        transaction.on_commit(lambda: run_ended(WorkflowRun.objects.get(pk=run.pk)), robust=True)
    elif not WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        cancel_requested_at=Coalesce(F("cancel_requested_at"), Value(now))
    ):
        final_status = WorkflowRun.objects.values_list("status", flat=True).get(pk=run.pk)
        raise RunAlreadyFinished("The run has already finished.", status=final_status)
    run.refresh_from_db()
    run_changed(run)
    return run
