"""What a run produces: per-node results and the run outcome."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from engine.storage import ImageData


class NodeStatus(StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"
    cancelled = "cancelled"
    reused = "reused"  # not run: an earlier result with the same content key stands in


class RunStatus(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    # Every node that can still run waits for a person's decision (an Approval node): the run returns
    # and is executed again, from where it stopped, once they decide.
    waiting = "waiting"


def _json_default(value: Any) -> Any:
    if isinstance(value, ImageData):
        return {"mime_type": value.mime_type, "bytes": len(value.data)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


def json_safe(value: Any) -> Any:
    """`value` reduced to what json.dumps accepts (bytes and odd objects become descriptions)."""
    return json.loads(json.dumps(value, default=_json_default))


def json_size(value: Any) -> int:
    """Bytes of `value` as stored: compact UTF-8 JSON, images counted by their description."""
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return len(encoded.encode("utf-8"))


@dataclass
class NodeResult:
    """The record of one node in one run. `error_message` is short and never a traceback.

    `content_key` (engine.keys) is "" when it cannot be known (the node is fed by an image URL).
    A handled failure is `failed` with `handled` true and the outputs its `onError` gave in `output`.
    A `reused` result carries the output of the result it names in `reused_from_*`, with no tokens and
    no cost. `cost` is in USD, None when the model has no price (or no model was called).
    """

    node_id: str
    node_type: str
    status: NodeStatus
    inputs: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] | None = None
    error_kind: str | None = None
    error_message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    provider: str | None = None
    model: str | None = None
    attempts: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: Decimal | None = None
    content_key: str = ""
    reused_from_run: str | None = None
    reused_from_result: int | None = None
    # A failure its node's `onError` handled (the run goes on), the node-level attempts that ran (`retry`)
    # and, when more than one ran or it failed, each failed attempt's `{attempt, kind, message}`.
    handled: bool = False
    node_attempts: int = 0
    attempt_errors: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))


@dataclass(frozen=True)
class PausedToolCall:
    """The Agent's tool call an approval is about: shown as a step of the agent (`arguments`: a preview)."""

    node_id: str
    call_id: str
    tool: str
    arguments: str


@dataclass(frozen=True)
class ApprovalRequested:
    """A node waits for a person: what they are shown and how long it may wait. For an Approval node,
    `node_id` is its id; for a tool call of an Agent, `<agent id>/<call id>`, with `tool_call` saying which
    and `checkpoint` the agent's conversation so far (the same for every call it paused for)."""

    node_id: str
    subject: Any
    instructions: str
    timeout_s: float
    on_timeout: str
    tool_call: PausedToolCall | None = None
    checkpoint: Mapping[str, Any] | None = field(default=None, repr=False)


@dataclass
class RunOutcome:
    status: RunStatus
    results: dict[
        str, NodeResult
    ]  # the nodes in the run's scope, in execution order (waiting: those settled)
    error_summary: str | None = None
    duration_ms: int = 0
    awaiting: list[ApprovalRequested] = field(default_factory=list)  # status waiting: the decisions it needs

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "results": {node_id: r.as_dict() for node_id, r in self.results.items()},
            "error_summary": self.error_summary,
            "duration_ms": self.duration_ms,
        }
