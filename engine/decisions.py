"""A person's decision on an approval step: what an Approval node reads, and the interface the apps implement
to hand decisions to a run (`ExecutionContext.approvals`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.results import ApprovalRequested

APPROVE, REJECT, TIMEOUT = "approve", "reject", "timeout"


@dataclass(frozen=True)
class Decision:
    decision: (
        str  # APPROVE, REJECT, or TIMEOUT (no one decided in time; the node's onTimeout says what follows)
    )
    comment: str = ""
    who: str | None = None
    when: str | None = None  # ISO 8601


class Approvals(Protocol):
    def decision(self, node_id: str) -> Decision | None:
        """The decision taken on this run's approval `node_id` (an Approval node's id, or an Agent's
        `<node id>/<tool call id>`), or None while no one has decided."""
        ...

    def checkpoint(self, node_id: str) -> Mapping[str, Any] | None:
        """The state node `node_id` (an Agent) kept when it last paused for decisions in this run, or None."""
        ...


class AwaitsDecisions(Exception):
    """Raised by a running node (an Agent) that cannot go on before people decide `requests`; each request
    carries the node's `checkpoint`, from which it continues when it runs again. `input_tokens` and
    `output_tokens` are what it used before pausing (the run's caps settle them)."""

    def __init__(self, requests: list[ApprovalRequested], *, input_tokens: int, output_tokens: int) -> None:
        super().__init__(f"waiting for {len(requests)} decision(s)")
        self.requests = requests
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
