"""What a run produces: per-node results, the run outcome, and the content key of a node."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
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


class RunStatus(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


def _json_default(value: Any) -> Any:
    if isinstance(value, ImageData):
        return {"mime_type": value.mime_type, "bytes": len(value.data)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return repr(value)


def json_safe(value: Any) -> Any:
    """`value` reduced to what json.dumps accepts (bytes and odd objects become descriptions)."""
    return json.loads(json.dumps(value, default=_json_default))


def json_size(value: Any) -> int:
    """Bytes of `value` as stored: compact UTF-8 JSON, images counted by their description."""
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return len(encoded.encode("utf-8"))


def content_key(node_type: str, data: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """SHA-256 of the kind, the data and the input values, as canonical JSON.

    The display `label` is left out: renaming a node does not change what it computes.
    """
    payload = {
        "kind": node_type,
        "data": {k: v for k, v in data.items() if k != "label"},
        "inputs": inputs,
    }
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class NodeResult:
    """The record of one node in one run. `error_message` is short and never a traceback.

    `content_key` is "" for nodes that never received their inputs (skipped, or cancelled before
    they started).
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
    content_key: str = ""

    def as_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))


@dataclass
class RunOutcome:
    status: RunStatus
    results: dict[str, NodeResult]  # the nodes in the run's scope, in execution order
    error_summary: str | None = None
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "results": {node_id: r.as_dict() for node_id, r in self.results.items()},
            "error_summary": self.error_summary,
            "duration_ms": self.duration_ms,
        }
