"""Running nodes on worker threads for the coordinating thread: a started node's job, the reports it sends
back (log lines, streamed text, its end) and the node timeout.

Node code runs on daemon worker threads (the provider SDKs are synchronous); everything it has to say goes
through one queue, so the coordinating thread emits every event, in the order the reports arrived.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.caps import LLMCaps
from engine.context import ExecutionContext
from engine.costs import PriceTable
from engine.events import EventSink, LogLine, NodeStarted, NodeToken, NodeTokensReset
from engine.graph import Node
from engine.kinds.base import NodeCall, NodeOutput
from engine.results import NodeResult, NodeStatus
from engine.workers import WorkerPool

MESSAGE_CHARS = 500

LOG, TOKEN, RESET, EVENT, DONE, ERROR = "log", "token", "reset", "event", "done", "error"
_PROGRESS = (LOG, TOKEN, RESET, EVENT)  # reports of a node still running


def short(message: str) -> str:
    """A message on one line and at most MESSAGE_CHARS long, as users read it."""
    message = " ".join(message.split())
    return message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 1] + "…"


@dataclass(eq=False)
class Task:
    """A started node; identity tells current reports from those of abandoned threads."""

    node: Node
    inputs: dict[str, Any]
    key: str
    reserved_tokens: int
    started_at: datetime
    started: float
    deadline: float
    timeout_s: float
    attempt: int = 1  # node-level attempts (`retry`), this one included
    # The failed attempts before this one, `{attempt, kind, message}` each (None: this is the first).
    attempt_errors: list[dict[str, Any]] | None = None


Report = tuple[Task, str, Any]


# How long past its `timeoutSeconds` a kind that times itself (HTTP, Code) may take before the engine cuts it
# off: the kind's own, more precise failure (`http_timeout`, `code_timeout`) arrives first.
OWN_TIMEOUT_GRACE_S = 2.0


class _TaskStream:
    """A node's TextStream: its deltas go to the coordinating thread, which emits them in order."""

    def __init__(self, task: Task, reports: queue.SimpleQueue[Report]) -> None:
        self.task = task
        self.reports = reports

    def delta(self, text: str) -> None:
        self.reports.put((self.task, TOKEN, text))

    def reset(self) -> None:
        self.reports.put((self.task, RESET, None))


class Dispatcher:
    """The nodes running now. Used by the coordinating thread only; worker threads just put reports."""

    def __init__(
        self,
        *,
        context: ExecutionContext,
        sink: EventSink,
        node_timeout_s: float,
        measure_output: Callable[[NodeOutput], int],
        caps: LLMCaps | None = None,
    ) -> None:
        self.context = context
        self.caps = caps
        self.sink = sink
        self.node_timeout_s = node_timeout_s
        self.measure_output = measure_output
        self.running: dict[str, Task] = {}
        self.reports: queue.SimpleQueue[Report] = queue.SimpleQueue()
        self.pool = WorkerPool("weft-node")
        # Set when the run returns, however it ends: nodes still running (abandoned) see it as `stopped`.
        self.ended = threading.Event()

    def start(
        self,
        node: Node,
        *,
        data: Mapping[str, Any],
        inputs: dict[str, Any],
        key: str,
        reserved_tokens: int,
        max_output_bytes: int | None,
        attempt: int = 1,
        attempt_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        """Emit NodeStarted and run the node on a worker thread; its end arrives as a DONE or ERROR report."""
        kind = node.kind
        now = time.monotonic()
        timeout_s = self.node_timeout_s
        if (own := node.handling.timeout_s) is not None:
            if kind.times_itself:
                own += OWN_TIMEOUT_GRACE_S
            timeout_s = min(timeout_s, own)
        # A kind that runs whole workflows (Sub-workflow, Map) is bounded by the run's wall clock and
        # its children's own limits, not by one node's timeout.
        deadline = float("inf") if kind.runs_workflows else now + timeout_s
        task = Task(
            node,
            inputs,
            key,
            reserved_tokens,
            datetime.now(UTC),
            now,
            deadline,
            timeout_s,
            attempt,
            attempt_errors,
        )
        self.running[node.id] = task
        self.sink.emit(NodeStarted(node_id=node.id, node_type=kind.type, started_at=task.started_at))
        reports = self.reports
        call = NodeCall(
            node_id=node.id,
            data=data,
            raw_data=node.data,
            inputs=inputs,
            context=self.context,
            log=lambda level, message: reports.put((task, LOG, (level, message))),
            max_output_bytes=max_output_bytes,
            stream=_TaskStream(task, reports),
            stopped=self.ended.is_set,
            caps=self.caps,
            emit=lambda event: reports.put((task, EVENT, event)),
        )
        measure_output = self.measure_output
        scope = self.context.node_scope

        def job() -> None:
            try:
                with scope(node.id, kind.type) if scope is not None else nullcontext():
                    output = kind.run(call)
                size = measure_output(output)
            except Exception as exc:
                reports.put((task, ERROR, exc))
            else:
                reports.put((task, DONE, (output, size)))

        self.pool.submit(job)

    def ends(self, task: Task, what: str, payload: Any) -> bool:
        """Emit a running node's progress (a log line, a piece of text, a reset); True when the report is
        the end (DONE or ERROR) of a node still current, which then leaves `running`. Reports of abandoned
        nodes (timed out or cancelled) are dropped."""
        if what not in _PROGRESS:
            self.pool.job_done()
        if self.running.get(task.node.id) is not task:
            return False
        if what == LOG:
            level, message = payload
            self.sink.emit(LogLine(level=level, message=short(message), node_id=task.node.id))
            return False
        if what == TOKEN:
            self.sink.emit(NodeToken(node_id=task.node.id, text=payload))
            return False
        if what == RESET:
            self.sink.emit(NodeTokensReset(node_id=task.node.id))
            return False
        if what == EVENT:
            self.sink.emit(payload)
            return False
        del self.running[task.node.id]
        return True

    def expired(self, now: float) -> list[Task]:
        """The running nodes past their deadline, abandoned (they leave `running`)."""
        expired = [t for t in self.running.values() if now >= t.deadline]
        for task in expired:
            del self.running[task.node.id]
        return expired

    def close(self) -> None:
        """The run has returned: tell nodes still running that it stopped, and let idle workers exit."""
        self.ended.set()
        self.pool.close()


def finished_result(
    task: Task,
    status: NodeStatus,
    *,
    prices: PriceTable | None,
    output: NodeOutput | None = None,
    error: tuple[str, str] | None = None,
    llm: Any = None,
    values: dict[str, Any] | None = None,
) -> NodeResult:
    """The result of a started node, with its model usage (from `output`, or from `llm`, an error that
    carries it) and that usage's cost. `values` are the outputs of a handled failure."""
    finished = time.monotonic()
    usage = output or llm  # both carry provider, model and attempts when a model was called
    provider, model = getattr(usage, "provider", None), getattr(usage, "model", None)
    input_tokens = getattr(usage, "input_tokens", None)
    output_tokens = getattr(usage, "output_tokens", None)
    cost = getattr(usage, "cost", None)
    if cost is None and prices is not None and (input_tokens or output_tokens):
        cost = prices.cost(provider, model, input_tokens, output_tokens)
    return NodeResult(
        node_id=task.node.id,
        node_type=task.node.kind.type,
        status=status,
        inputs=task.inputs,
        # A failure may keep what the node did so far (an Agent's transcript).
        output=output.values
        if output
        else values
        if values is not None
        else getattr(llm, "kept_output", None),
        error_kind=error[0] if error else None,
        error_message=error[1] if error else None,
        started_at=task.started_at,
        finished_at=datetime.now(UTC),
        duration_ms=round((finished - task.started) * 1000),
        provider=provider,
        model=model,
        attempts=getattr(usage, "attempts", 0) or 0,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost=cost,
        content_key=task.key,
        handled=values is not None,
        node_attempts=task.attempt,
        attempt_errors=task.attempt_errors,
    )
