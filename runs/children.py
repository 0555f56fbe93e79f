"""Child runs: the runs a run's Sub-workflow and Map nodes start, executed in the calling node's thread.

A run's lineage carries what its children inherit (the callers above, the LLM caps, the child-run
allowance of the whole tree, the parent's cancel check). The children are driven by the function the
parent's driver hands over (`runs.driving`), so this module needs nothing from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection
from django.utils import timezone

import engine
from runs.changes import run_changed
from runs.execution import ChildRunGuard, RunGuard
from runs.inputs import run_inputs_validate
from runs.metrics import run_started_count
from runs.models import NodeResult, RunStatus, RunTrigger, WorkflowRun
from runs.outputs import outputs_by_name
from runs.reconnect import reconnecting
from workflows.callees import Caller
from workflows.models import WorkflowVersion


class ChildRunAllowance:
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
class Lineage:
    """What a run inherits from the runs above it: the workflows that called it (for cycles and depth),
    the LLM caps and child-run allowance they all count against, and their cancel check (None for a
    top-level run)."""

    chain: tuple[Caller, ...]
    caps: engine.LLMCaps
    children: ChildRunAllowance
    parent_stopped: Callable[[], bool] | None = None


class RunDriver(Protocol):
    """Executes a claimed (or just created) run and records its outcome; None when the run was lost."""

    def __call__(
        self, *, run: WorkflowRun, guard: RunGuard, lineage: Lineage, done: Mapping[str, dict]
    ) -> WorkflowRun | None: ...


class ChildRuns:
    """`engine.WorkflowCaller` for one run: each call records a child run of the same owner and executes it
    right here, in the calling node's thread (never through the queue: a bounded worker pool would
    deadlock waiting on its own children), counting against the parent's caps, stopping with it."""

    def __init__(self, *, parent: WorkflowRun, lineage: Lineage, drive: RunDriver) -> None:
        self.parent = parent
        self.lineage = lineage
        self.drive = drive

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
        finished = self.drive(run=child, guard=guard, lineage=self.lineage, done={})
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
    run_changed(child)
    run_started_count(trigger=RunTrigger.SUBWORKFLOW)
    return child
