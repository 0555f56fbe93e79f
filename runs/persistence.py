"""The engine EventSink that writes a run's progress to the database as it happens.

The engine emits every event from its one coordinating thread, so the writes need no locking. Each
finished node is one INSERT (ON CONFLICT DO NOTHING: NodeResult is unique per run and node, so a
node finished twice across a crash and a recovery is written once) and each log line one INSERT;
a client polling mid-run sees finished nodes and logs at once. Reused nodes, which the engine reports
all together right after the run starts, are written together: one INSERT for all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import engine
from runs.execution import RunGuard, reconnecting
from runs.models import ExecutionLog, LogLevel, NodeResult, WorkflowRun

_LEVELS = set(LogLevel.values)


class RunEventSink:
    def __init__(
        self,
        *,
        run: WorkflowRun,
        guard: RunGuard,
        already_done: int = 0,
        listener: Callable[[engine.Event], None] | None = None,
    ) -> None:
        self.run = run
        self.guard = guard
        self.already_done = already_done
        self.listener = listener
        self.reused: list[engine.NodeResult] = []

    def emit(self, event: engine.Event) -> None:
        # After losing the run to another worker, this one must not write over the new owner's results.
        if not self.guard.lost:
            reconnecting(lambda: self._write(event))
        if self.listener is not None:
            self.listener(event)

    def _write(self, event: engine.Event) -> None:
        if isinstance(event, engine.NodeFinished) and event.result.status is engine.NodeStatus.reused:
            self.reused.append(event.result)
            return
        if self.reused:
            self._write_results(self.reused)
            self.reused = []
        if isinstance(event, engine.RunStarted):
            total = len(event.node_ids) + self.already_done
            if total != self.run.total_nodes:  # a scoped run's scope grows by what its nodes need
                WorkflowRun.objects.filter(pk=self.run.pk).update(total_nodes=total)
                self.run.total_nodes = total
        elif isinstance(event, engine.NodeFinished):
            self._write_results([event.result])
        elif isinstance(event, engine.LogLine):
            ExecutionLog.objects.create(
                run_id=self.run.pk,
                node_id=event.node_id,
                level=event.level if event.level in _LEVELS else LogLevel.INFO,
                message=event.message,
            )

    def _write_results(self, results: list[engine.NodeResult]) -> None:
        NodeResult.objects.bulk_create([self._row(result) for result in results], ignore_conflicts=True)

    def _row(self, result: engine.NodeResult) -> NodeResult:
        data = result.as_dict()  # JSON-safe inputs and output
        return NodeResult(
            run_id=self.run.pk,
            owner_id=self.run.owner_id,
            node_id=result.node_id,
            node_type=result.node_type,
            status=data["status"],
            inputs=data["inputs"],
            output=data["output"],
            error_kind=result.error_kind or "",
            error_message=result.error_message or "",
            provider=result.provider or "",
            model=result.model or "",
            attempts=result.attempts,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cost=result.cost,
            content_key=result.content_key,
            reused_from_id=result.reused_from_result,
            started_at=result.started_at,
            duration_ms=result.duration_ms,
        )
