"""Workflows calling workflows (the Sub-workflow and Map kinds): the resolved callee a caller node carries
and the interface through which the apps run a child.

The engine cannot read saved workflows. Before a graph is validated or run, the apps resolve each caller
node's callee (workflow id and version) and write it into the node's `data.callee`: the callee's
interface (so the node's ports follow it), a content key of the callee's graph (so the node's own content
key changes with the callee) and whether the callee is a pure function of its inputs (so reuse knows).
At run time the node hands its inputs to `context.workflows` (a `WorkflowCaller`), which records and runs
the child and answers with its outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

SUBWORKFLOW_KIND = "subworkflow"
MAP_KIND = "map"
CALLER_KINDS = (SUBWORKFLOW_KIND, MAP_KIND)
# An Agent's workflow tools carry their resolved callee too, each in its entry of `data.tools`.
AGENT_KIND = "agent"
# The key of a caller node's `data` that holds its resolved callee; written by the apps, never by the editor.
CALLEE_KEY = "callee"


def callee_of(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The resolved callee in a caller node's data, or None (a draft nobody resolved)."""
    callee = data.get(CALLEE_KEY)
    return callee if isinstance(callee, Mapping) and isinstance(callee.get("interface"), Mapping) else None


def callee_inputs(callee: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    inputs = callee["interface"].get("inputs")
    return [i for i in inputs if isinstance(i, Mapping)] if isinstance(inputs, list) else []


def callee_outputs(callee: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outputs = callee["interface"].get("outputs")
    return [o for o in outputs if isinstance(o, Mapping)] if isinstance(outputs, list) else []


@dataclass
class ChildOutcome:
    """How a child run ended: `status` is succeeded, failed or cancelled, or refused (the run may start no
    more child runs: nothing was started, `error` says which limit); `outputs` by Output name."""

    run_id: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class ChildRunsLeft:
    """How many more child runs the current run (with every run above and beside it) may start, and the
    message an item past them is refused with."""

    count: int
    refusal: str


class WorkflowCaller(Protocol):
    """Runs a resolved callee as a child run of the current run, in the calling thread, and waits for it.

    `item` is the index of a Map's item (None for a Sub-workflow). `log(level, message)` reports to the
    parent run's log. `stopped()` says the caller has stopped (the run ended, or the Map gave up): a call
    made then is cancelled before any work, and a child already running stops soon after. A refusal before
    the child starts (inputs that do not fit) is a failed outcome; the run's child-run limit, `refused`.
    """

    def children_left(self) -> ChildRunsLeft | None:
        """What the run may still start (None: no limit), so that a Map refuses what is past it up front."""
        ...

    def call(
        self,
        *,
        node_id: str,
        callee: Mapping[str, Any],
        inputs: Mapping[str, Any],
        log: Any,
        stopped: Callable[[], bool],
        item: int | None = None,
    ) -> ChildOutcome: ...
