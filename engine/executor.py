"""Runs a validated graph: dependency-driven, concurrent, cancellable, reporting events to a sink.

One coordinating thread (the caller's) decides what runs, enforces timeouts, caps and
cancellation, and is the only one to call `sink.emit`. Node code runs on worker threads (the
provider SDKs are synchronous) and reports back through a queue.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.caps import LLMCaps
from engine.context import ExecutionContext
from engine.events import (
    EventSink,
    LogLine,
    NodeFinished,
    NodeStarted,
    NodeToken,
    NodeTokensReset,
    RunFinished,
    RunStarted,
)
from engine.graph import Graph, Node
from engine.keys import NodeKey, content_keys
from engine.kinds.base import NodeCall, NodeError, NodeOutput, OutputTooLarge
from engine.order import kahn_order
from engine.ports import convert
from engine.results import NodeResult, NodeStatus, RunOutcome, RunStatus, json_size
from engine.reuse import Fate, PlannedCalls, ResultStore, ReuseMode, RunPlan, plan_run
from engine.validation import GraphInvalid, Limits, ValidationIssue, analyse_graph
from engine.workers import WorkerPool

logger = logging.getLogger(__name__)

_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class RunOptions:
    concurrency: int = 8
    node_timeout_s: float = 120.0
    run_timeout_s: float = 900.0
    poll_interval_s: float = 0.1  # how often `should_cancel` is consulted
    max_llm_calls: int | None = None  # LLM/Vision nodes started per run
    # Input + output tokens of LLM/Vision nodes: each call reserves its most (prompt estimate plus
    # maxOutputTokens) before it starts and settles to its actual use after, so parallel calls cannot
    # overshoot it.
    max_llm_tokens: int | None = None
    # Bytes of one node's output, and of what a run's results store (outputs and the inputs copied
    # from them), as compact JSON (None: unlimited).
    max_node_output_bytes: int | None = 1024 * 1024
    max_run_output_bytes: int | None = 10 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)


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
    parsed, keys = _analyse(graph, context=context, options=options, targets=targets)
    finished = finished_outputs or {}
    plan = plan_run(parsed, keys, targets=targets, mode=reuse, store=store, finished=finished)
    if caps is None:
        caps = LLMCaps(max_calls=options.max_llm_calls, max_tokens=options.max_llm_tokens)
    return _Run(parsed, keys, plan, finished, context, sink, options, should_cancel, caps).execute()


def plan_graph(
    graph: Mapping[str, Any],
    *,
    context: ExecutionContext,
    options: RunOptions = RunOptions(),
    targets: Collection[str] | None = None,
    reuse: ReuseMode = ReuseMode.auto,
    store: ResultStore | None = None,
) -> tuple[RunPlan, PlannedCalls]:
    """What `execute_graph` would do, without running anything: the plan and the model calls it foresees."""
    parsed, keys = _analyse(graph, context=context, options=options, targets=targets)
    plan = plan_run(parsed, keys, targets=targets, mode=reuse, store=store)
    return plan, plan.llm_calls(parsed)


def downstream_of(graph: Mapping[str, Any], node_id: str, *, limits: Limits) -> list[str]:
    """`node_id` and every node downstream of it, in execution order (for runs `from` a node)."""
    issues, parsed = analyse_graph(graph, limits=limits)
    if issues:
        raise GraphInvalid(issues)
    if node_id not in parsed.nodes:
        raise GraphInvalid([ValidationIssue("nodeIds", f"no node with id {node_id!r}")])
    found = {node_id}
    stack = [node_id]
    while stack:
        for edge in parsed.nodes[stack.pop()].outgoing:
            if edge.target not in found:
                found.add(edge.target)
                stack.append(edge.target)
    pairs = [(e.source, e.target) for n in parsed.nodes.values() for e in n.incoming]
    order, _ = kahn_order(list(parsed.nodes), pairs)
    return [n for n in order if n in found]


def _analyse(
    graph: Mapping[str, Any],
    *,
    context: ExecutionContext,
    options: RunOptions,
    targets: Collection[str] | None,
) -> tuple[Graph, dict[str, NodeKey]]:
    issues, parsed = analyse_graph(graph, limits=options.limits)
    if issues:
        raise GraphInvalid(issues)
    unknown = sorted(set(targets or ()) - parsed.nodes.keys())
    if unknown:
        raise GraphInvalid(
            [ValidationIssue("targets", f"no node with id {node_id!r}") for node_id in unknown]
        )
    return parsed, content_keys(parsed, defaults=context.defaults, digests=context.image_digests)


def _now() -> datetime:
    return datetime.now(UTC)


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MESSAGE_CHARS else message[: _MESSAGE_CHARS - 1] + "…"


@dataclass(eq=False)
class _Task:
    """A started node; identity tells current reports from those of abandoned threads."""

    node: Node
    inputs: dict[str, Any]
    key: str
    reserved_tokens: int
    started_at: datetime
    started: float
    deadline: float


_LOG, _TOKEN, _RESET, _DONE, _ERROR = "log", "token", "reset", "done", "error"
_PROGRESS = (_LOG, _TOKEN, _RESET)  # reports of a node still running


class _TaskStream:
    """A node's TextStream: its deltas go to the coordinating thread, which emits them in order."""

    def __init__(self, task: _Task, reports: queue.SimpleQueue[tuple[_Task, str, Any]]) -> None:
        self.task = task
        self.reports = reports

    def delta(self, text: str) -> None:
        self.reports.put((self.task, _TOKEN, text))

    def reset(self) -> None:
        self.reports.put((self.task, _RESET, None))


class _Run:
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
        self.graph = graph
        self.keys = keys
        self.plan = plan
        self.scope = plan.scope
        self.position = {node_id: i for i, node_id in enumerate(self.scope)}
        self.context = context
        self.sink = sink
        self.options = options
        self.should_cancel = should_cancel
        self.outputs: dict[str, Mapping[str, Any]] = dict(finished)
        to_run = set(plan.with_fate(Fate.run))
        # How many distinct upstream nodes that run now each running node still waits for: it is
        # decided (ready, or skipped as a branch not taken) once all of them have settled.
        self.waiting = {
            node_id: len({e.source for e in graph.nodes[node_id].incoming if e.source in to_run})
            for node_id in self.scope
            if node_id in to_run
        }
        self.ready: list[int] = []
        self.running: dict[str, _Task] = {}
        self.results: dict[str, NodeResult] = {}
        self.reports: queue.SimpleQueue[tuple[_Task, str, Any]] = queue.SimpleQueue()
        self.pool = WorkerPool("weft-node")
        # Set when `execute` returns, however it ends: nodes still running (abandoned) see it as `stopped`.
        self.ended = threading.Event()
        self.caps = caps
        self.cap_message: str | None = None
        # What the run's results store so far: each node's output and its inputs (copies of upstream
        # outputs, so a fan-out multiplies them).
        self.stored_bytes = 0

    # The coordinating loop ------------------------------------------------------------------

    def execute(self) -> RunOutcome:
        start = time.monotonic()
        run_deadline = start + self.options.run_timeout_s
        next_poll = start
        self.sink.emit(RunStarted(node_ids=list(self.scope)))
        try:
            for node_id in self.plan.with_fate(Fate.reuse):
                self.reuse(node_id)
            self.decide([node_id for node_id, count in self.waiting.items() if count == 0])
            while True:
                now = time.monotonic()
                if now >= next_poll:
                    if self.should_cancel():
                        return self.stop(start, RunStatus.cancelled, "cancelled")
                    next_poll = now + self.options.poll_interval_s
                if now >= run_deadline:
                    limit = f"run exceeded wall-clock limit of {self.options.run_timeout_s:g} s"
                    return self.stop(start, RunStatus.failed, limit)
                for task in [t for t in self.running.values() if now >= t.deadline]:
                    del self.running[task.node.id]
                    message = f"timed out after {self.options.node_timeout_s:g} s"
                    self.fail(task.node, "timeout", message, task=task)
                while self.ready and len(self.running) < self.options.concurrency:
                    self.start(self.scope[heapq.heappop(self.ready)])
                if not self.running and not self.ready:
                    return self.finish(start)
                wake = min(next_poll, run_deadline, *(t.deadline for t in self.running.values()))
                try:
                    report = self.reports.get(timeout=max(0.0, wake - time.monotonic()))
                except queue.Empty:
                    continue
                self.handle(*report)
                # Drain what else has arrived before deciding what to start next.
                while True:
                    try:
                        self.handle(*self.reports.get_nowait())
                    except queue.Empty:
                        break
        finally:
            self.ended.set()
            self.pool.close()

    def handle(self, task: _Task, what: str, payload: Any) -> None:
        if what not in _PROGRESS:
            self.pool.job_done()
        if self.running.get(task.node.id) is not task:
            return  # a report from an abandoned (timed out or cancelled) node
        if what == _LOG:
            level, message = payload
            self.sink.emit(LogLine(level=level, message=_short(message), node_id=task.node.id))
            return
        if what == _TOKEN:
            self.sink.emit(NodeToken(node_id=task.node.id, text=payload))
            return
        if what == _RESET:
            self.sink.emit(NodeTokensReset(node_id=task.node.id))
            return
        del self.running[task.node.id]
        if what == _DONE:
            self.succeed(task, payload)
        elif isinstance(payload, NodeError):
            self.fail(task.node, payload.kind, payload.message, task=task, llm=payload)
        else:
            # Unexpected bugs are logged with their traceback for operators, shortened for users.
            logger.error("node %s raised", task.node.id, exc_info=payload)
            self.fail(task.node, "internal_error", f"{type(payload).__name__}: {payload}", task=task)

    # Starting and finishing nodes ------------------------------------------------------------

    def reuse(self, node_id: str) -> None:
        source = self.plan.nodes[node_id].source
        assert source is not None
        self.outputs[node_id] = source.output
        if self.options.max_run_output_bytes is not None:
            self.stored_bytes += json_size(source.output)  # stored again, as this run's result
        now = _now()
        self.results[node_id] = NodeResult(
            node_id,
            self.graph.nodes[node_id].kind.type,
            NodeStatus.reused,
            output=dict(source.output),
            started_at=now,
            finished_at=now,
            duration_ms=0,
            input_tokens=0,
            output_tokens=0,
            cost=Decimal(0),
            content_key=self.keys[node_id].key or "",
            reused_from_run=source.run_id,
            reused_from_result=source.result_id,
        )
        self.sink.emit(NodeFinished(self.results[node_id]))

    def start(self, node_id: str) -> None:
        node = self.graph.nodes[node_id]
        kind = node.kind
        inputs: dict[str, Any] = {p.name: [] for p in node.inputs if p.multiple}
        for edge in node.incoming:  # edge order: a list port receives values in edge order
            source_values = self.outputs.get(edge.source, {})  # nothing from a skipped node
            if edge.source_port not in source_values:
                continue  # a branch not taken into an input this node can do without
            value = convert(source_values[edge.source_port], edge.source_type, edge.target_type)
            if edge.target_port in inputs and isinstance(inputs[edge.target_port], list):
                inputs[edge.target_port].append(value)
            else:
                inputs[edge.target_port] = value
        data = self.keys[node_id].data
        key = self.keys[node_id].key or ""
        reserved = 0
        if kind.uses_llm:
            prompt_tokens, output_tokens = kind.token_estimate(data, inputs)
            reserved = prompt_tokens + output_tokens
            refusal = self.caps.reserve(reserved)
            if refusal is not None:
                self.cap_message = self.cap_message or refusal
                self.refuse(node, inputs, key, "cost_cap", refusal)
                return
            if self.context.budget is not None:
                model = node.data.get("model") or data.get("model")
                refusal = self.context.budget.reserve(
                    node_id=node_id, model=model, input_tokens=prompt_tokens, output_tokens=output_tokens
                )
                if refusal is not None:
                    self.caps.cancel(reserved)
                    self.refuse(node, inputs, key, "budget", refusal)
                    return
        if (run_limit := self.options.max_run_output_bytes) is not None:
            inputs_size = json_size(inputs)
            if self.stored_bytes + inputs_size > run_limit:
                message = (
                    f"its inputs ({inputs_size:,} bytes) would take the run's stored output "
                    f"past the run's limit of {run_limit:,} bytes"
                )
                self.release_budget(node)
                if kind.uses_llm:
                    self.caps.cancel(reserved)
                self.refuse(node, {}, key, "output_limit", message)
                return
            self.stored_bytes += inputs_size
        now = time.monotonic()
        # A kind that runs whole workflows (Sub-workflow, Map) is bounded by the run's wall clock and
        # its children's own limits, not by one node's timeout.
        deadline = float("inf") if kind.runs_workflows else now + self.options.node_timeout_s
        task = _Task(node, inputs, key, reserved, _now(), now, deadline)
        self.running[node_id] = task
        self.sink.emit(NodeStarted(node_id=node_id, node_type=kind.type, started_at=task.started_at))
        call = NodeCall(
            node_id=node_id,
            data=data,
            raw_data=node.data,
            inputs=inputs,
            context=self.context,
            log=lambda level, message: self.reports.put((task, _LOG, (level, message))),
            max_output_bytes=self.output_budget(),
            stream=_TaskStream(task, self.reports),
            stopped=self.ended.is_set,
        )
        node_limit = self.options.max_node_output_bytes
        measure = node_limit is not None or self.options.max_run_output_bytes is not None

        def job() -> None:
            try:
                output = kind.run(call)
                # Measured here, off the coordinating thread; the run's total is checked in `succeed`.
                size = json_size(output.values) if measure else 0
                if node_limit is not None and size > node_limit:
                    message = f"output is {size:,} bytes; the limit for one node is {node_limit:,} bytes"
                    raise OutputTooLarge(message, output)
            except Exception as exc:
                self.reports.put((task, _ERROR, exc))
            else:
                self.reports.put((task, _DONE, (output, size)))

        self.pool.submit(job)

    def refuse(self, node: Node, inputs: dict[str, Any], key: str, error_kind: str, message: str) -> None:
        """Fail a node without starting it: a cap, a budget or the run's output limit would be crossed."""
        self.results[node.id] = NodeResult(
            node.id,
            node.kind.type,
            NodeStatus.failed,
            inputs=inputs,
            error_kind=error_kind,
            error_message=message,
            content_key=key,
        )
        self.sink.emit(NodeFinished(self.results[node.id]))
        self.skip_downstream(node)

    def output_budget(self) -> int | None:
        """What the next node's output may take: the node limit, or what the run has left if less."""
        node_limit, run_limit = self.options.max_node_output_bytes, self.options.max_run_output_bytes
        left = None if run_limit is None else max(0, run_limit - self.stored_bytes)
        return min((b for b in (node_limit, left) if b is not None), default=None)

    def settle(self, task: _Task, usage: Any) -> None:
        """Replace a call's reservation by what it used (a refused output still spent its tokens), and
        release any budget it held."""
        if not task.node.kind.uses_llm:
            return
        used = (getattr(usage, "input_tokens", None) or 0) + (getattr(usage, "output_tokens", None) or 0)
        self.caps.settle(task.reserved_tokens, used)
        self.release_budget(task.node)

    def release_budget(self, node: Node) -> None:
        if node.kind.uses_llm and self.context.budget is not None:
            self.context.budget.release(node_id=node.id)

    def succeed(self, task: _Task, done: tuple[NodeOutput, int]) -> None:
        node = task.node
        output, size = done
        run_limit = self.options.max_run_output_bytes
        if run_limit is not None:
            if self.stored_bytes + size > run_limit:
                message = (
                    f"output of {size:,} bytes would take the run's stored output "
                    f"past the run's limit of {run_limit:,} bytes"
                )
                self.fail(node, "output_limit", message, task=task, llm=OutputTooLarge(message, output))
                return
            self.stored_bytes += size
        self.outputs[node.id] = output.values
        self.record(task, NodeStatus.succeeded, output=output)
        self.decide(self.released_by(node))

    def released_by(self, node: Node) -> list[str]:
        """The undecided nodes to run for which `node` was the last upstream node to settle."""
        released: list[str] = []
        for target in dict.fromkeys(e.target for e in node.outgoing if e.target in self.waiting):
            self.waiting[target] -= 1
            if self.waiting[target] == 0 and target not in self.results:
                released.append(target)
        return released

    def decide(self, node_ids: list[str]) -> None:
        """Each of these nodes has every upstream node settled: make it ready, or skip it.

        A disabled node is skipped (`disabled`). A node is skipped when a required input, or every
        input it has an edge into, gets no value: `disabled` when that input's value is missing
        because of a disabled node, `branch_not_taken` otherwise. Failures never reach here: a failed
        node skips its descendants at once.
        """
        stack = list(node_ids)
        while stack:
            node = self.graph.nodes[stack.pop()]
            skip = ("disabled", "the node is disabled") if node.disabled else self.missing_input(node)
            if skip is None:
                heapq.heappush(self.ready, self.position[node.id])
                continue
            self.results[node.id] = NodeResult(
                node.id,
                node.kind.type,
                NodeStatus.skipped,
                error_kind=skip[0],
                error_message=skip[1],
            )
            self.sink.emit(NodeFinished(self.results[node.id]))
            stack.extend(self.released_by(node))

    def missing_input(self, node: Node) -> tuple[str, str] | None:
        """Why `node` gets none of what it needs (its skip kind and reason), or None if it can run."""
        if not node.incoming:
            return None
        missing: dict[str, tuple[str, str]] = {}  # input port -> why the first of its edges got no value
        taken: set[str] = set()
        for edge in node.incoming:
            skipped = self.results.get(edge.source)
            if skipped is not None and skipped.status is NodeStatus.skipped:
                if skipped.error_kind == "disabled":
                    why = ("disabled", f"upstream node {edge.source!r} is disabled")
                else:
                    why = ("branch_not_taken", f"upstream node {edge.source!r} was skipped")
                missing.setdefault(edge.target_port, why)
            elif edge.source_port not in self.outputs.get(edge.source, {}):
                missing.setdefault(
                    edge.target_port,
                    ("branch_not_taken", f"output {edge.source_port!r} of {edge.source!r} was not taken"),
                )
            else:
                taken.add(edge.target_port)
        for port in node.inputs:
            if port.required and port.name in missing and port.name not in taken:
                kind, why = missing[port.name]
                return kind, f"required input {port.name!r} got no value: {why}"
        if not taken:
            kind, why = next(iter(missing.values()))
            return kind, f"none of its inputs got a value: {why}"
        return None

    def fail(self, node: Node, kind: str, message: str, *, task: _Task, llm: Any = None) -> None:
        self.record(task, NodeStatus.failed, error=(kind, _short(message)), llm=llm)
        self.sink.emit(
            LogLine(level="error", message=f"{node.display_name} failed: {_short(message)}", node_id=node.id)
        )
        self.skip_downstream(node)

    def record(
        self,
        task: _Task,
        status: NodeStatus,
        *,
        output: NodeOutput | None = None,
        error: tuple[str, str] | None = None,
        llm: Any = None,
    ) -> None:
        finished = time.monotonic()
        usage = output or llm  # both carry provider, model and attempts when a model was called
        provider, model = getattr(usage, "provider", None), getattr(usage, "model", None)
        input_tokens = getattr(usage, "input_tokens", None)
        output_tokens = getattr(usage, "output_tokens", None)
        cost = None
        if self.context.prices is not None and (input_tokens or output_tokens):
            cost = self.context.prices.cost(provider, model, input_tokens, output_tokens)
        result = NodeResult(
            node_id=task.node.id,
            node_type=task.node.kind.type,
            status=status,
            inputs=task.inputs,
            output=output.values if output else None,
            error_kind=error[0] if error else None,
            error_message=error[1] if error else None,
            started_at=task.started_at,
            finished_at=_now(),
            duration_ms=round((finished - task.started) * 1000),
            provider=provider,
            model=model,
            attempts=getattr(usage, "attempts", 0) or 0,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
            content_key=task.key,
        )
        self.results[task.node.id] = result
        self.sink.emit(NodeFinished(result))
        # After the result (and its usage) is recorded, so that a budget never counts the call as neither.
        self.settle(task, usage)

    def skip_downstream(self, node: Node) -> None:
        """Mark every in-scope descendant skipped: none of them can run without this node."""
        found: set[str] = set()
        stack = [node]
        while stack:
            for edge in stack.pop().outgoing:
                if (
                    edge.target in self.position
                    and edge.target not in found
                    and edge.target not in self.results
                ):
                    found.add(edge.target)
                    stack.append(self.graph.nodes[edge.target])
        for node_id in sorted(found, key=self.position.__getitem__):
            self.results[node_id] = NodeResult(
                node_id,
                self.graph.nodes[node_id].kind.type,
                NodeStatus.skipped,
                error_kind="upstream_failed",
                error_message=f"upstream node {node.display_name} failed",
            )
            self.sink.emit(NodeFinished(self.results[node_id]))

    # Ending the run --------------------------------------------------------------------------

    def stop(self, start: float, status: RunStatus, summary: str) -> RunOutcome:
        """End early (cancel request or run deadline): unfinished nodes become cancelled."""
        reason = "run cancelled" if status is RunStatus.cancelled else summary
        for node_id in self.scope:
            if node_id in self.results:
                continue
            task = self.running.pop(node_id, None)
            if task is not None:
                self.record(task, NodeStatus.cancelled, error=("cancelled", reason))
            else:
                self.results[node_id] = NodeResult(
                    node_id,
                    self.graph.nodes[node_id].kind.type,
                    NodeStatus.cancelled,
                    error_kind="cancelled",
                    error_message=reason,
                )
                self.sink.emit(NodeFinished(self.results[node_id]))
        return self.outcome(start, status, summary)

    def finish(self, start: float) -> RunOutcome:
        failed = [r for r in self.results.values() if r.status is NodeStatus.failed]
        if not failed:
            return self.outcome(start, RunStatus.succeeded, None)
        first = min(failed, key=lambda r: self.position[r.node_id])
        failed_node = self.graph.nodes[first.node_id]
        summary = self.cap_message or f"{failed_node.display_name} failed: {first.error_message}"
        return self.outcome(start, RunStatus.failed, summary)

    def outcome(self, start: float, status: RunStatus, summary: str | None) -> RunOutcome:
        results = {node_id: self.results[node_id] for node_id in self.scope}
        outcome = RunOutcome(status, results, summary, round((time.monotonic() - start) * 1000))
        self.sink.emit(RunFinished(outcome))
        return outcome
