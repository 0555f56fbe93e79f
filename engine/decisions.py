"""A person's decision on an approval step: what an Approval node reads, and the interface the apps implement
to hand decisions to a run (`ExecutionContext.approvals`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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
        """The decision taken on this run's approval node `node_id`, or None while no one has decided."""
        ...
