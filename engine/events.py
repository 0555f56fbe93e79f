"""Progress events of a run and the sink interface they are delivered to.

The executor calls `sink.emit` only from its coordinating thread, in order, so a sink that
writes to a database needs no locking of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from engine.results import ApprovalRequested, NodeResult, RunOutcome


@dataclass(frozen=True)
class RunStarted:
    node_ids: list[str]  # the nodes in scope, in execution order


@dataclass(frozen=True)
class NodeStarted:
    node_id: str
    node_type: str
    started_at: datetime


@dataclass(frozen=True)
class NodeFinished:
    result: NodeResult  # succeeded, failed, skipped or cancelled


@dataclass(frozen=True)
class NodeToken:
    """A piece of a running LLM/Vision node's answer, as the model generates it."""

    node_id: str
    text: str


@dataclass(frozen=True)
class NodeTokensReset:
    """Forget the node's text so far: an attempt failed after partial output and another starts over."""

    node_id: str


@dataclass(frozen=True)
class ToolCalled:
    """A running Agent node calls a tool: `arguments` is a preview (truncated text, never a secret)."""

    node_id: str
    call_id: str
    tool: str
    arguments: str


@dataclass(frozen=True)
class ToolAnswered:
    """A tool call of a running Agent node ended: `result` is a preview of its result or error."""

    node_id: str
    call_id: str
    tool: str
    result: str
    is_error: bool
    duration_ms: int
    child_run_id: str | None = None


@dataclass(frozen=True)
class LogLine:
    level: str  # debug | info | warning | error
    message: str
    node_id: str | None = None


@dataclass(frozen=True)
class RunFinished:
    outcome: RunOutcome


E = TypeVar("E")

Event = (
    RunStarted
    | NodeStarted
    | NodeToken
    | NodeTokensReset
    | ToolCalled
    | ToolAnswered
    | NodeFinished
    | LogLine
    | ApprovalRequested
    | RunFinished
)


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


@dataclass
class MemorySink:
    """Keeps every event, for tests and for callers that only want the outcome and the log."""

    events: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, event_type: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type)]
