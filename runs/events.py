"""A run's live events: the process's event bus (runs.eventbus) and the publisher that turns the engine's
events, as runs.persistence has written them, into bus events: `run` (status and counts), `node` (started;
finished with the result as the run detail shows it), `log`, `token` (a text delta of a running LLM/Vision
node), `reset` (forget that node's text) and `end`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from django.conf import settings

import engine
from runs.eventbus import END, RunEventBus
from runs.eventbus_memory import MemoryRunEventBus
from runs.eventbus_redis import RedisRunEventBus
from runs.models import NodeResult, WorkflowRun
from runs.result_serializers import node_result_data

logger = logging.getLogger(__name__)

_buses: dict[str, RunEventBus] = {}
_buses_lock = threading.Lock()


def run_event_bus() -> RunEventBus:
    """The process's bus: Redis Streams with REDIS_URL, otherwise the in-memory one."""
    url = settings.REDIS_URL or ""
    with _buses_lock:
        bus = _buses.get(url)
        if bus is None:
            if url:
                active_ttl = int(settings.RUN_TIMEOUT_SECONDS) + settings.RUN_EVENTS_TTL_SECONDS
                bus = RedisRunEventBus(
                    url,
                    maxlen=settings.RUN_EVENTS_MAXLEN,
                    ttl_s=settings.RUN_EVENTS_TTL_SECONDS,
                    active_ttl_s=active_ttl,
                    longest_read_s=settings.RUN_EVENTS_HEARTBEAT_SECONDS,
                )
            else:
                bus = MemoryRunEventBus(
                    maxlen=settings.RUN_EVENTS_MAXLEN, ttl_s=settings.RUN_EVENTS_TTL_SECONDS
                )
            _buses[url] = bus
        return bus


# Publishing a run's events ------------------------------------------------------------------


def run_counts(run: WorkflowRun) -> dict[str, Any]:
    return {
        "status": run.status,
        "totalNodes": run.total_nodes,
        "succeededNodes": run.succeeded_nodes,
        "failedNodes": run.failed_nodes,
        "skippedNodes": run.skipped_nodes,
        "reusedNodes": run.reused_nodes,
    }


def node_finished_data(result: NodeResult) -> dict[str, Any]:
    return {"state": "finished", "nodeId": result.node_id, "result": node_result_data(result)}


def end_data(run: WorkflowRun) -> dict[str, Any]:
    return {**run_counts(run), "durationMs": run.duration_ms, "errorSummary": run.error_summary}


# Events of a running node's progress (a model's streamed text, an Agent's tool calls), published as they come
# rather than with the next batch.
_PUBLISHED_AT_ONCE = frozenset({"token", "reset", "tool_call", "tool_result"})


class RunEventPublisher:
    """Publishes one run's events. They are held and published together at each `flush` (the sink's, after
    it wrote the batch they belong to): one round trip a batch, not three a node, and the run's counts once
    a batch. A model's streamed text goes out at once, with what is held: a reader watches it being typed,
    and a batch is up to 0.1 s. A bus that is down costs the live view, never the run: failures are logged
    (once per run) and the run goes on; readers fall back to the database."""

    def __init__(self, *, run: WorkflowRun, bus: RunEventBus | None = None) -> None:
        self.run = run
        self.run_id = str(run.id)
        self.bus = bus or run_event_bus()
        self._warned = False
        self._held: list[tuple[str, dict[str, Any]]] = []
        self._counts_changed = False

    def publish(self, type: str, data: dict[str, Any]) -> None:
        self._held.append((type, data))
        if type in _PUBLISHED_AT_ONCE:
            self.flush()

    def publish_now(self, type: str, data: dict[str, Any]) -> None:
        """Publish one event at once (outside a worker's batches: a decision taken through the API)."""
        self.publish(type, data)
        self.flush()

    def flush(self, *, last: bool = False) -> None:
        if self._counts_changed:
            self._held.append(("run", run_counts(self.run) | {"status": "running"}))
            self._counts_changed = False
        if not self._held:
            return
        events, self._held = self._held, []
        try:
            self.bus.publish(self.run_id, events, last=last)
        except (redis.RedisError, OSError) as exc:
            if not self._warned:
                logger.warning("run %s: live events not published (%s)", self.run_id, exc)
                self._warned = True

    def discard(self) -> None:
        """Forget what is held: the run is another worker's now."""
        self._held.clear()
        self._counts_changed = False

    def engine_event(self, event: engine.Event, *, result: NodeResult | None = None) -> None:
        """`result` is the model row written for a NodeFinished event."""
        if isinstance(event, engine.RunStarted):
            self.publish("run", run_counts(self.run) | {"status": "running"})
        elif isinstance(event, engine.NodeStarted):
            data = {"state": "started", "nodeId": event.node_id, "nodeType": event.node_type}
            self.publish("node", data | {"startedAt": event.started_at})
        elif isinstance(event, engine.NodeToken):
            self.publish("token", {"nodeId": event.node_id, "text": event.text})
        elif isinstance(event, engine.NodeTokensReset):
            self.publish("reset", {"nodeId": event.node_id})
        elif isinstance(event, engine.ToolCalled):
            self.publish(
                "tool_call",
                {
                    "nodeId": event.node_id,
                    "callId": event.call_id,
                    "tool": event.tool,
                    "arguments": event.arguments,
                },
            )
        elif isinstance(event, engine.ToolAnswered):
            self.publish(
                "tool_result",
                {
                    "nodeId": event.node_id,
                    "callId": event.call_id,
                    "tool": event.tool,
                    "result": event.result,
                    "isError": event.is_error,
                    "durationMs": event.duration_ms,
                    "childRunId": event.child_run_id,
                },
            )
        elif isinstance(event, engine.NodeFinished) and result is not None:
            self.publish("node", node_finished_data(result))
            self._counts_changed = True
        elif isinstance(event, engine.LogLine):
            self.publish("log", {"nodeId": event.node_id, "level": event.level, "message": event.message})
        elif isinstance(event, engine.ApprovalRequested):
            data = {
                "nodeId": event.node_id,
                "instructions": event.instructions,
                "timeoutSeconds": event.timeout_s,
            }
            if (call := event.tool_call) is not None:
                # An Agent's call: its steps show it waiting (static/js/steps.js).
                data |= {"nodeId": call.node_id, "callId": call.call_id, "tool": call.tool}
                data |= {"arguments": call.arguments, "approvalId": event.node_id}
            self.publish("approval_requested", data)

    def end(self, run: WorkflowRun) -> None:
        self._counts_changed = False  # the end event carries the final counts
        self._held.append((END, end_data(run)))
        # The stream is closed in the end event's round trip; if that fails it still expires on its own
        # (active_ttl_s).
        self.flush(last=True)
