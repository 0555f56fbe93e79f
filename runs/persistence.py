"""The engine EventSink that writes a run's progress to the database in small batches.

The engine emits every event from its one coordinating thread, so the sink needs no locking. Finished
nodes and log lines are kept in memory and written together (one INSERT per table, `bulk_create`) once the
oldest of them is FLUSH_INTERVAL_SECONDS old, whenever the engine polls `should_cancel` (every 0.1 s, even
while a node runs), when the run finishes, and by `run_execute` whatever happens: a client polling
mid-run sees finished nodes and logs within about 0.1 s, and a 1,000-node run costs tens of INSERTs, not
thousands (reused nodes, reported all together right after the run starts, go in one). The result of a
model call is written at once with what is held: the daily budget counts usage from stored results.
Node results are written ON CONFLICT DO NOTHING (NodeResult is unique per run and node), so a node
finished twice across a crash and a recovery is written once; after a SIGKILL only the nodes of the
batch not yet written run again. Each batch of results also writes the run's counters in its transaction
(from a tally this sink keeps, read from the run's results when it starts), so the counts a reader sees
always match the results written; the tally, with the model usage summed alongside, is also the run's
final counters once everything held is written (`totals`), so the end reads no result back. Every event
goes to the live event bus (runs.events) with the batch it belongs to, once that is written: at most a
poll (0.1 s) after it was emitted, in one round trip a batch; the `end` event follows the final write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection, transaction

import engine
from core.cache import owner_caches_invalidate
from engine.results import json_safe
from runs.costs import price_table
from runs.ending import node_counts
from runs.events import RunEventPublisher
from runs.execution import RunGuard
from runs.metrics import node_finished_count
from runs.models import ExecutionLog, LogLevel, NodeResult, NodeStatus, WorkflowRun
from runs.reconnect import reconnecting

_LEVELS = set(LogLevel.values)
FLUSH_INTERVAL_SECONDS = 0.1
# The run's counter of each result status (cancelled results are not counted, as at the end of a run).
COUNTER_FIELDS = {
    NodeStatus.SUCCEEDED: "succeeded_nodes",
    NodeStatus.FAILED: "failed_nodes",
    NodeStatus.SKIPPED: "skipped_nodes",
    NodeStatus.REUSED: "reused_nodes",
}


def _spent(event: engine.Event) -> bool:
    """A model call's result: the daily budget counts usage from the stored results, so it is written before
    the engine reserves the next call."""
    if not isinstance(event, engine.NodeFinished) or event.result.status is engine.NodeStatus.reused:
        return False
    result = event.result
    return result.input_tokens is not None or result.output_tokens is not None or result.cost is not None


class RunEventSink:
    def __init__(
        self,
        *,
        run: WorkflowRun,
        guard: RunGuard,
        already_done: int = 0,
        listener: Callable[[engine.Event], None] | None = None,
        publisher: RunEventPublisher | None = None,
        origins: Mapping[int, NodeResult] | None = None,
    ) -> None:
        self.run = run
        # The results a reused node may name (OwnerResultStore.origins), so its row links to one unqueried.
        self.origins = origins if origins is not None else {}
        self.guard = guard
        self.already_done = already_done
        self.listener = listener
        self.publisher = publisher
        self.counts: dict[str, int] = dict.fromkeys(COUNTER_FIELDS.values(), 0)
        self.usage: dict[str, Any] = {"input_tokens": 0, "output_tokens": 0, "cost": None}
        self._results: list[NodeResult] = []
        self._logs: list[ExecutionLog] = []
        self._oldest_pending = 0.0

    def emit(self, event: engine.Event) -> None:
        # After losing the run to another worker, this one must not write over the new owner's results.
        if not self.guard.lost:
            row = None
            if isinstance(event, engine.RunStarted):
                reconnecting(lambda: self._write_total(event))
            elif isinstance(event, engine.NodeFinished):
                row = self._result_row(event.result)
                self._hold(row, self._results)
                node_finished_count(event.result, prices=price_table())
                self._tally(row)
            elif isinstance(event, engine.LogLine):
                self._hold(self._log_row(event), self._logs)
            elif isinstance(event, engine.ApprovalRequested):
                asked = engine.LogLine("info", f"approval requested: {event.instructions}", event.node_id)
                self._hold(self._log_row(asked), self._logs)
            if self.publisher is not None:
                self.publisher.engine_event(event, result=row)
            if isinstance(event, engine.RunFinished) or self._due() or _spent(event):
                self.flush()
        if self.listener is not None:
            self.listener(event)

    def totals(self) -> dict[str, Any]:
        """The run's final counters and model usage (as `runs.ending.node_counts` counts them from the stored
        results), from the tally: true once `flush` has written everything held."""
        return {**self.counts, **self.usage}

    def _tally(self, row: NodeResult) -> None:
        if (field := COUNTER_FIELDS.get(row.status)) is not None:  # type: ignore[call-overload]
            self.counts[field] += 1
            for name, value in self.counts.items():
                setattr(self.run, name, value)
        self.usage["input_tokens"] += row.input_tokens or 0
        self.usage["output_tokens"] += row.output_tokens or 0
        if row.cost is not None:
            self.usage["cost"] = (self.usage["cost"] or 0) + row.cost

    def should_cancel(self) -> bool:
        """The engine's poll, every 0.1 s from its coordinating thread: write what is held, ask the guard."""
        self.flush()
        return self.guard()

    def flush(self) -> None:
        """Write every held result and log line now (nothing, once the run is another worker's)."""
        if self.guard.lost:
            self._results.clear()
            self._logs.clear()
            if self.publisher is not None:
                self.publisher.discard()
            return
        if self._results or self._logs:
            reconnecting(self._write_held)
        if self.publisher is not None:
            self.publisher.flush()

    def _hold(self, row: NodeResult | ExecutionLog, rows: list) -> None:
        if not self._results and not self._logs:
            self._oldest_pending = time.monotonic()
        rows.append(row)

    def _due(self) -> bool:
        held = self._results or self._logs
        return bool(held) and time.monotonic() - self._oldest_pending >= FLUSH_INTERVAL_SECONDS

    def _write_held(self) -> None:
        # One transaction per batch, emptied only once it committed: a retry after a reconnect writes the
        # whole batch again, and the results' ON CONFLICT DO NOTHING keeps any of them from being doubled.
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Progress rows need not wait for their own WAL flush: the run's final UPDATE (a normal
                # commit) flushes the WAL up to it, and a database crash before that loses at most these
                # last rows, whose nodes the recovered run executes again.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            if self._results:
                NodeResult.objects.bulk_create(self._results, ignore_conflicts=True)
                WorkflowRun.objects.filter(pk=self.run.pk).update(**self.counts)
            if self._logs:
                ExecutionLog.objects.bulk_create(self._logs)
            # The run's detail shows its results and logs, list pages its counters.
            owner_caches_invalidate(owner_id=self.run.owner_id)
        self._results = []
        self._logs = []

    def _write_total(self, event: engine.RunStarted) -> None:
        total = len(event.node_ids) + self.already_done
        if total != self.run.total_nodes:  # a scoped run's scope grows by what its nodes need
            WorkflowRun.objects.filter(pk=self.run.pk).update(total_nodes=total)
            owner_caches_invalidate(owner_id=self.run.owner_id)
            self.run.total_nodes = total
        if self.already_done:  # a recovered or resumed run: its stored results count from the start
            stored = node_counts(self.run)
            self.counts = {field: stored[field] for field in COUNTER_FIELDS.values()}
            self.usage = {field: stored[field] for field in self.usage}

    def _log_row(self, event: engine.LogLine) -> ExecutionLog:
        return ExecutionLog(
            run_id=self.run.pk,
            node_id=event.node_id,
            level=event.level if event.level in _LEVELS else LogLevel.INFO,
            message=event.message,
        )

    def _result_row(self, result: engine.NodeResult) -> NodeResult:
        row = NodeResult(
            run_id=self.run.pk,
            owner_id=self.run.owner_id,
            node_id=result.node_id,
            node_type=result.node_type,
            status=result.status.value,
            # JSON-safe copies: an output may hold bytes, and the engine's objects stay the engine's.
            inputs=json_safe(result.inputs),
            output=None if result.output is None else json_safe(result.output),
            error_kind=result.error_kind or "",
            error_message=result.error_message or "",
            provider=result.provider or "",
            model=result.model or "",
            attempts=result.attempts,
            handled=result.handled,
            node_attempts=result.node_attempts,
            attempt_errors=result.attempt_errors,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cost=result.cost,
            content_key=result.content_key,
            reused_from_id=result.reused_from_result,
            started_at=result.started_at,
            duration_ms=result.duration_ms,
        )
        if (origin := self.origins.get(result.reused_from_result)) is not None:  # type: ignore[arg-type]
            row.reused_from = origin
        return row
