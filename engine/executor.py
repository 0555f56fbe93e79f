"""Runs a validated graph: dependency-driven, concurrent, cancellable, reporting events to a sink.

One coordinating thread (the caller's) decides what runs, enforces timeouts, caps and
cancellation, and is the only one to call `sink.emit`. It asks `scheduling` which node runs when,
`budgets` whether a node may start and what it may output, and `dispatch` to run nodes on worker
threads (the provider SDKs are synchronous) that report back through a queue.
"""

from __future__ import annotations

import heapq
import logging
import queue
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from engine.analysis import analyse_for_run
from engine.budgets import Refusal, RunBudgets
from engine.caps import LLMCaps
from engine.context import ExecutionContext
from engine.decisions import AwaitsDecisions
from engine.dispatch import DONE, Dispatcher, Task, finished_result, short
from engine.events import EventSink, LogLine, RunFinished, RunStarted
from engine.graph import Graph, Node
from engine.keys import NodeKey
from engine.kinds.base import NodeError, NodeOutput, OutputTooLarge
from engine.kinds.handling import NO_HANDLING, ErrorHandling
from engine.options import RunOptions
from engine.results import ApprovalRequested, NodeResult, NodeStatus, RunOutcome, RunStatus
from engine.reuse import Fate, ResultStore, ReuseMode, RunPlan, plan_run
from engine.scheduling import Schedule

logger = logging.getLogger(__name__)


def execute_graph(
    graph: Mapping[str, Any],
    *,
    context: ExecutionContext,
    sink: EventSink,
    options: RunOptions = RunOptions(),
    targets: Collection[str] | None = None,
    reuse: ReuseMode = ReuseMode.auto,
    store: ResultStore | None = None,
    finished_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
    caps: LLMCaps | None = None,
) -> RunOutcome:
    """Validate `graph` (raising GraphInvalid) and run it, or the `targets` and what they need.

    Nodes whose content key matches a result in `store` are reused when `reuse` allows it (see
    engine.reuse). `finished_outputs` maps node ids to outputs this same run already produced before
    its worker died: those nodes are not run again and appear in no event and in no result. `caps`
    is the LLM call and token tally to count against (default: a new one from `options`); a child
    run started by a Sub-workflow or Map node passes its parent's, so children share the parent's caps.
    """
    parsed, keys = analyse_for_run(graph, context=context, options=options, targets=targets)
    finished = finished_outputs or {}
    plan = plan_run(parsed, keys, targets=targets, mode=reuse, store=store, finished=finished)
    if caps is None:
        caps = LLMCaps(max_calls=options.max_llm_calls, max_tokens=options.max_llm_tokens)
    return _Run(parsed, keys, plan, finished, context, sink, options, should_cancel, caps).execute()


class _Run:
    """The coordinating loop and what it does when a node ends."""

    def __init__(
        self,
        graph: Graph,
        keys: Mapping[str, NodeKey],
        plan: RunPlan,
        finished: Mapping[str, Mapping[str, Any]],
        context: ExecutionContext,
        sink: EventSink,
        options: RunOptions,
        should_cancel: Callable[[], bool],
        caps: LLMCaps,
    ) -> None:
        self.keys = keys
        self.plan = plan
        self.context = context
        self.sink = sink
        self.options = options
        self.should_cancel = should_cancel
        self.schedule = Schedule(graph, plan, finished, sink)
        self.budgets = RunBudgets(
            caps=caps,
            budget=context.budget,
            max_node_output_bytes=options.max_node_output_bytes,
            max_run_output_bytes=options.max_run_output_bytes,
        )
        self.dispatch = Dispatcher(
            context=context,
            sink=sink,
            node_timeout_s=options.node_timeout_s,
            measure_output=self.budgets.measure_output,
            caps=caps,
        )
        # Nodes waiting for their next attempt (`retry`): when each is due, and its attempt and errors so far.
        self.retry_at: list[tuple[float, int, str]] = []
        self.retrying: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        # Approval nodes held for a person's decision, and the tool calls of paused Agents.
        self.awaiting: list[ApprovalRequested] = []

    def execute(self) -> RunOutcome:
        start = time.monotonic()
        run_deadline = start + self.options.run_timeout_s
        next_poll = start
        schedule, dispatch = self.schedule, self.dispatch
        ready, running, reports, retry_at = schedule.ready, dispatch.running, dispatch.reports, self.retry_at
        self.sink.emit(RunStarted(node_ids=list(schedule.scope)))
        try:
            for node_id in self.plan.with_fate(Fate.reuse):
                self.reuse(node_id)
            schedule.decide_first()
            while True:
                now = time.monotonic()
                if now >= next_poll:
                    if self.should_cancel():
                        return self.stop(start, RunStatus.cancelled, "cancelled")
                    next_poll = now + self.options.poll_interval_s
                if now >= run_deadline:
                    limit = f"run exceeded wall-clock limit of {self.options.run_timeout_s:g} s"
                    return self.stop(start, RunStatus.failed, limit)
                for task in dispatch.expired(now):
                    self.fail(task, "timeout", f"timed out after {task.timeout_s:g} s")
                while retry_at and retry_at[0][0] <= now:
                    schedule.make_ready(heapq.heappop(retry_at)[2])
                while ready and len(running) < self.options.concurrency:
                    self.start(schedule.next_ready())
                if not running and not ready and not retry_at:
                    return self.finish(start)
                wake = min(next_poll, run_deadline, *(t.deadline for t in running.values()))
                if retry_at:
                    wake = min(wake, retry_at[0][0])
                try:
                    report = reports.get(timeout=max(0.0, wake - time.monotonic()))
                except queue.Empty:
                    continue
                self.handle(*report)
                # Drain what else has arrived before deciding what to start next.
                while True:
                    try:
                        self.handle(*reports.get_nowait())
                    except queue.Empty:
                        break
        finally:
            dispatch.close()

    def handle(self, task: Task, what: str, payload: Any) -> None:
        if not self.dispatch.ends(task, what, payload):
            return
        if what == DONE:
            self.succeed(task, payload)
        elif isinstance(payload, AwaitsDecisions):
            self.hold(task, payload)
        elif isinstance(payload, NodeError):
            self.fail(task, payload.kind, payload.message, llm=payload)
        else:
            # Unexpected bugs are logged with their traceback for operators, shortened for users.
            logger.error("node %s raised", task.node.id, exc_info=payload)
            self.fail(task, "internal_error", f"{type(payload).__name__}: {payload}")

    # Starting and finishing nodes ------------------------------------------------------------

    def reuse(self, node_id: str) -> None:
        source = self.plan.nodes[node_id].source
        assert source is not None
        self.budgets.count_reused(source.output)
        self.schedule.reuse(node_id, source, self.keys[node_id].key or "")

    def start(self, node: Node) -> None:
        inputs = self.schedule.inputs_for(node)
        if node.kind.awaits_decision and self.awaits(node, inputs):
            return
        node_key = self.keys[node.id]
        key = node_key.key or ""
        attempt, attempt_errors = self.retrying.pop(node.id, (1, None)) if self.retrying else (1, None)
        admitted = self.budgets.admit(node, node_key.data, inputs, count_inputs=attempt == 1)
        if isinstance(admitted, Refusal):
            self.refuse(node, inputs if admitted.keeps_inputs else {}, key, admitted)
            return
        self.dispatch.start(
            node,
            data=node_key.data,
            inputs=inputs,
            key=key,
            reserved_tokens=admitted,
            max_output_bytes=self.budgets.output_budget(),
            attempt=attempt,
            attempt_errors=attempt_errors,
        )

    def awaits(self, node: Node, inputs: dict[str, Any]) -> bool:
        """Whether `node` must wait for a person's decision (none yet): it is then held, not started."""
        approvals = self.context.approvals
        if approvals is not None and approvals.decision(node.id) is not None:
            return False
        request = node.kind.approval_request(node.id, self.keys[node.id].data, inputs)
        self.awaiting.append(request)
        self.sink.emit(request)
        return True

    def hold(self, task: Task, paused: AwaitsDecisions) -> None:
        """A running node (an Agent) paused for people's decisions: it stays unsettled, so the run waits, and
        runs again (from the checkpoint its requests carry) once they decide. Not a failure: no retry."""
        self.budgets.settle(task.node, task.reserved_tokens, paused)
        for request in paused.requests:
            self.awaiting.append(request)
            self.sink.emit(request)

    def refuse(self, node: Node, inputs: dict[str, Any], key: str, refusal: Refusal) -> None:
        """Fail a node without starting it: a cap, a budget or the run's output limit would be crossed."""
        self.schedule.record(
            NodeResult(
                node.id,
                node.kind.type,
                NodeStatus.failed,
                inputs=inputs,
                error_kind=refusal.kind,
                error_message=refusal.message,
                content_key=key,
            )
        )
        self.schedule.skip_downstream(node)

    def succeed(self, task: Task, done: tuple[NodeOutput, int]) -> None:
        output, size = done
        refusal = self.budgets.store_output(size)
        if refusal is not None:
            self.fail(task, "output_limit", refusal, llm=OutputTooLarge(refusal, output))
            return
        self.schedule.outputs[task.node.id] = output.values
        self.record(task, NodeStatus.succeeded, output=output)
        self.schedule.release_after(task.node)

    def fail(self, task: Task, kind: str, message: str, *, llm: Any = None) -> None:
        node = task.node
        handling = node.handling
        if handling is not NO_HANDLING:
            errors = [
                *(task.attempt_errors or ()),
                {"attempt": task.attempt, "kind": kind, "message": short(message)},
            ]
            if task.attempt < handling.max_attempts:
                self.retry(task, handling, errors, llm)
                return
            task.attempt_errors = errors
            if handling.on_error != "fail":
                self.handle_failure(task, handling, kind, message, llm)
                return
        self.record(task, NodeStatus.failed, error=(kind, short(message)), llm=llm)
        self.sink.emit(
            LogLine(level="error", message=f"{node.display_name} failed: {short(message)}", node_id=node.id)
        )
        self.schedule.skip_downstream(node)

    def retry(self, task: Task, handling: ErrorHandling, errors: list[dict[str, Any]], llm: Any) -> None:
        """The attempt failed and the node's `retry` allows another: start it again after its backoff."""
        node = task.node
        self.budgets.settle(node, task.reserved_tokens, llm)  # this attempt's call is over
        delay = handling.backoff(task.attempt)
        self.sink.emit(
            LogLine(
                level="warning",
                message=f"{node.display_name} attempt {task.attempt} failed: {errors[-1]['message']}; "
                f"attempt {task.attempt + 1} of {handling.max_attempts} in {delay:g} s",
                node_id=node.id,
            )
        )
        self.retrying[node.id] = (task.attempt + 1, errors)
        heapq.heappush(self.retry_at, (time.monotonic() + delay, self.schedule.position[node.id], node.id))

    def handle_failure(self, task: Task, handling: ErrorHandling, kind: str, message: str, llm: Any) -> None:
        """A failure the node's `onError` handles: its outputs get the error value (or only its error port
        a value) and what needs them is decided as after a success."""
        node = task.node
        error = {"kind": kind, "message": short(message), "attempts": task.attempt, "node": node.id}
        values = handling.outputs_on_failure(node.outputs, error)
        self.schedule.outputs[node.id] = values
        self.record(task, NodeStatus.failed, error=(kind, short(message)), llm=llm, values=values)
        self.sink.emit(
            LogLine(
                level="warning",
                message=f"{node.display_name} failed (handled: {handling.on_error}): {short(message)}",
                node_id=node.id,
            )
        )
        self.schedule.release_after(node)

    def record(
        self,
        task: Task,
        status: NodeStatus,
        *,
        output: NodeOutput | None = None,
        error: tuple[str, str] | None = None,
        llm: Any = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        result = finished_result(
            task, status, prices=self.context.prices, output=output, error=error, llm=llm, values=values
        )
        self.schedule.record(result)
        # After the result (and its usage) is recorded, so that a budget never counts the call as neither.
        self.budgets.settle(task.node, task.reserved_tokens, output or llm)

    # Ending the run --------------------------------------------------------------------------

    def stop(self, start: float, status: RunStatus, summary: str) -> RunOutcome:
        """End early (cancel request or run deadline): unfinished nodes become cancelled."""
        reason = "run cancelled" if status is RunStatus.cancelled else summary
        for node_id in self.schedule.unsettled():
            task = self.dispatch.running.pop(node_id, None)
            if task is not None:
                self.record(task, NodeStatus.cancelled, error=("cancelled", reason))
            else:
                self.schedule.record(
                    NodeResult(
                        node_id,
                        self.schedule.graph.nodes[node_id].kind.type,
                        NodeStatus.cancelled,
                        error_kind="cancelled",
                        error_message=reason,
                    )
                )
        return self.outcome(start, status, summary)

    def finish(self, start: float) -> RunOutcome:
        first = self.schedule.first_failure()
        if self.awaiting:
            # Nothing else can run: the run returns and is executed again once someone decides. A failure
            # so far is told now and decides the run's end then.
            summary = None if first is None else self.failure_summary(first)
            return self.outcome(start, RunStatus.waiting, summary)
        if first is None:
            return self.outcome(start, RunStatus.succeeded, None)
        return self.outcome(start, RunStatus.failed, self.failure_summary(first))

    def failure_summary(self, first: NodeResult) -> str:
        failed_node = self.schedule.graph.nodes[first.node_id]
        return self.budgets.cap_message or f"{failed_node.display_name} failed: {first.error_message}"

    def outcome(self, start: float, status: RunStatus, summary: str | None) -> RunOutcome:
        results = self.schedule.results_in_scope()
        duration_ms = round((time.monotonic() - start) * 1000)
        outcome = RunOutcome(status, results, summary, duration_ms, awaiting=self.awaiting)
        self.sink.emit(RunFinished(outcome))
        return outcome
