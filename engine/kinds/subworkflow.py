"""Sub-workflow and Map: run another workflow of the same user as a child run, once or once per item.

Their ports follow the callee's interface, which the apps resolve into `data.callee` before validation
(engine/calls.py); the child runs themselves are recorded and executed by `context.workflows`.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from typing import Any

from engine.calls import (
    CALLEE_KEY,
    MAP_KIND,
    SUBWORKFLOW_KIND,
    ChildOutcome,
    WorkflowCaller,
    callee_inputs,
    callee_of,
)
from engine.interface import INPUT_TYPES
from engine.kinds import rules
from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, OutputTooLarge, register
from engine.ports import Port, compact_json
from engine.results import json_size

_CALLEE_DATA = {
    "workflowId": {"type": ["string", "null"], "title": "Workflow", "default": None, "maxLength": 64},
    "version": {
        "type": ["integer", "null"],
        "title": "Version (null: the published one)",
        "minimum": 1,
        "default": None,
    },
}
# `data.callee` (CALLEE_KEY) is not in the schema: the apps write it (engine/calls.py), the editor reads its
# interface for the ports (writing a provisional one when a workflow is picked) and never shows it as a
# setting; a client's own value is always replaced.
MAP_MAX_CONCURRENCY = 16


_ITEM_INPUT = "itemInput"
# The callee's inputs as input ports (text or image, required as the callee says; a Map leaves out the one
# its items feed) and, for a Sub-workflow, its outputs as output ports (engine/kinds/rules.py).
_CALLEE_INPUTS = {
    "interface": CALLEE_KEY,
    "side": "inputs",
    "typeOneOf": list(INPUT_TYPES),
    "typeElse": "text",
}
_CALLEE_OUTPUTS = {"interface": CALLEE_KEY, "side": "outputs", "type": "any"}


def _callee_check(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    if not data.get("workflowId"):
        return [("workflowId", "choose the workflow to run")]
    if callee_of(data) is None:
        return [("workflowId", "the called workflow could not be resolved")]
    return []


def _caller(call: NodeCall) -> tuple[WorkflowCaller, Mapping[str, Any]]:
    callee = callee_of(call.data)
    if call.context.workflows is None or callee is None:
        raise NodeError("configuration", "this run cannot start child runs")
    return call.context.workflows, callee


def _child_failure(outcome: ChildOutcome) -> NodeError:
    if outcome.status == "refused":
        return NodeError("child_run_limit", outcome.error)
    if outcome.status == "cancelled":
        return NodeError("cancelled", f"child run {outcome.run_id} was cancelled")
    where = f"child run {outcome.run_id}" if outcome.run_id else "the child run"
    return NodeError("child_failed", f"{where} failed: {outcome.error}")


def _reusable(data: Mapping[str, Any]) -> bool:
    callee = callee_of(data)
    return bool(callee and callee.get("key") and callee.get("pure"))


def _callee_llm_calls(data: Mapping[str, Any]) -> int:
    callee = callee_of(data)
    calls = callee.get("llmCalls") if callee else 0
    return calls if isinstance(calls, int) and calls > 0 else 0


@register
class SubworkflowKind(NodeKind):
    type = SUBWORKFLOW_KIND
    label = "Sub-workflow"
    description = (
        "Runs another of your workflows (its published version, or a chosen one) with these inputs and "
        "outputs what its Output nodes received. The child run is recorded as a run of its own."
    )
    palette_group = "Workflows"
    palette_order = 110
    icon = "↪"  # a call into another workflow (glyphs from Debian's DejaVu fonts: "⧉" shows as a box)
    summary = {"choose": [{"format": "callee", "verb": "Calls"}]}
    inputs_from = _CALLEE_INPUTS
    outputs_from = _CALLEE_OUTPUTS
    runs_workflows = True
    data_schema = {"type": "object", "properties": dict(_CALLEE_DATA)}

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        return _callee_check(data)

    def reusable(self, data: Mapping[str, Any]) -> bool:
        return _reusable(data)

    def llm_calls(self, data: Mapping[str, Any]) -> int:
        return _callee_llm_calls(data)

    def run(self, call: NodeCall) -> NodeOutput:
        caller, callee = _caller(call)
        outcome = caller.call(
            node_id=call.node_id, callee=callee, inputs=dict(call.inputs), log=call.log, stopped=call.stopped
        )
        if outcome.status != "succeeded":
            raise _child_failure(outcome)
        return NodeOutput(dict(outcome.outputs))


def map_items(value: Any) -> list[Any]:
    """The items of a Map's `items` input: a JSON array as is, a text split into its non-blank lines."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    raise NodeError(
        "invalid_items", f"items must be a list or a text of lines, not {compact_json(value)[:80]}"
    )


def item_input(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(name of the callee input each item goes to, problem): `itemInput`, else the single required one."""
    return rules.item_input(data, field=_ITEM_INPUT, interface=CALLEE_KEY)


def _item_value(item: Any, spec_type: str) -> Any:
    # A text input receives a string item as it is and anything else as compact JSON (as json -> text).
    if spec_type == "text" and not isinstance(item, str):
        return compact_json(item)
    return item


@register
class MapKind(NodeKind):
    type = MAP_KIND
    label = "Map"
    description = (
        "Runs another of your workflows once per item of a list (a JSON array, or a text's lines), a few at "
        "once, and outputs the results in item order."
    )
    palette_group = "Workflows"
    palette_order = 120
    icon = "⇶"  # the same call fanned out over the items
    summary = {
        "choose": [{"format": "callee", "verb": "Maps"}],
        "append": [
            {"when": {"field": "workflowId", "notEmpty": True}, "text": " · {concurrency} at once"},
            {
                "when": [
                    {"field": "workflowId", "notEmpty": True},
                    {"field": "continueOnError", "equals": True},
                ],
                "text": " · continues on errors",
            },
        ],
    }
    runs_workflows = True
    # `items` is listed in the catalog; the callee's other inputs follow it, less the one the items feed.
    inputs = (Port("items", "json", required=True),)
    inputs_from = {**_CALLEE_INPUTS, "leaveOut": _ITEM_INPUT}
    outputs = (Port("results", "json"), Port("errors", "json"))
    data_schema = {
        "type": "object",
        "properties": {
            **_CALLEE_DATA,
            _ITEM_INPUT: {
                "type": ["string", "null"],
                "title": "Input that receives each item (default: the single required one)",
                "default": None,
                "maxLength": 64,
            },
            "concurrency": {
                "type": "integer",
                "title": "At most this many at once",
                "minimum": 1,
                "maximum": MAP_MAX_CONCURRENCY,
                "default": 4,
            },
            "continueOnError": {"type": "boolean", "title": "Continue when an item fails", "default": False},
        },
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problems = _callee_check(data)
        if not problems:
            _, problem = item_input(data)
            if problem:
                problems.append(("itemInput", problem))
        return problems

    def reusable(self, data: Mapping[str, Any]) -> bool:
        return _reusable(data)

    def llm_calls_per_item(self, data: Mapping[str, Any]) -> int:
        return _callee_llm_calls(data)

    def run(self, call: NodeCall) -> NodeOutput:
        caller, callee = _caller(call)
        name, problem = item_input(call.data)
        if name is None:
            raise NodeError("configuration", problem or "no input receives the items")
        spec_type = next(str(s.get("type")) for s in callee_inputs(callee) if s.get("name") == name)
        items = map_items(call.inputs["items"])
        shared = {k: v for k, v in call.inputs.items() if k != "items"}
        continue_on_error = bool(call.data["continueOnError"])
        # Items past the run's child-run allowance are refused here, before any child starts: otherwise
        # each would still cost the caller a call (and the run a connection) just to be told no.
        left = caller.children_left()
        startable = len(items) if left is None else min(len(items), max(0, left.count))
        if left is not None and startable < len(items) and not continue_on_error:
            raise NodeError(
                "child_run_limit",
                f"the list has {len(items):,} items but only {left.count:,} more child runs may start: "
                f"{left.refusal}",
            )
        progress = _MapProgress(
            items=len(items),
            startable=startable,
            refusal=left.refusal if left is not None else None,
            continue_on_error=continue_on_error,
            budget=call.max_output_bytes,
            run_stopped=call.stopped,
        )
        if progress.failure is not None:
            raise progress.failure

        def work() -> None:
            # Each worker takes the next item until none is left, so at most `concurrency` children run.
            while (index := progress.take()) is not None:
                inputs = {**shared, name: _item_value(items[index], spec_type)}
                try:
                    outcome = caller.call(
                        node_id=call.node_id,
                        callee=callee,
                        inputs=inputs,
                        log=call.log,
                        stopped=progress.stopped,
                        item=index,
                    )
                except Exception as exc:
                    progress.crashed(exc)  # raised again by the node, which the executor reports
                    return
                progress.record(index, outcome)

        # Each thread in a copy of the node's context, so that what the app keeps there (its trace) follows.
        workers = [
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(work,),
                name=f"weft-map-{call.node_id}-{i}",
                daemon=True,
            )
            for i in range(min(call.data["concurrency"], startable))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if call.stopped():
            raise NodeError("cancelled", "the run ended before the map finished")
        if progress.failure is not None:
            raise progress.failure
        return NodeOutput(progress.output())


class _MapProgress:
    """What the workers of one Map share: the next item to start, the outcomes so far, a lower bound of the
    output they make, and the failure that stops the Map (which also stops its running children)."""

    def __init__(
        self,
        *,
        items: int,
        startable: int,
        refusal: str | None,
        continue_on_error: bool,
        budget: int | None,
        run_stopped: Callable[[], bool],
    ) -> None:
        self.outcomes: list[ChildOutcome | None] = [None] * items
        self.next = 0
        # Items from `end` on start no child: past the allowance from the start, or once a call was refused.
        self.end = startable
        self.refusal = refusal
        self.continue_on_error = continue_on_error
        self.budget = budget
        self.run_stopped = run_stopped
        # Why the Map fails: a NodeError, or an unexpected exception of a call.
        self.failure: Exception | None = None
        self.lock = threading.Lock()
        # Each refused item will be listed in `errors` (its slot in `results` a null): counted up front, so
        # that a list far past the allowance fails at once when listing it would not fit.
        refused = items - startable
        self.collected = refused * (json_size(self._refused(startable)) + len("null")) if refused else 0
        self._check_budget()

    def _refused(self, index: int) -> dict[str, Any]:
        return {"index": index, "kind": "child_run_limit", "message": self.refusal}

    def stopped(self) -> bool:
        """For the children: the run has ended, or the Map has failed and their results are not wanted."""
        return self.failure is not None or self.run_stopped()

    def take(self) -> int | None:
        """The next item to start, or None: all started, or the Map stopped."""
        with self.lock:
            if self.failure is not None or self.run_stopped() or self.next >= self.end:
                return None
            index = self.next
            self.next += 1
            return index

    def record(self, index: int, outcome: ChildOutcome) -> None:
        if outcome.status == "succeeded":
            size = json_size(outcome.outputs)
        else:
            size = json_size(self._failed(index, outcome)) + len("null")
        with self.lock:
            self.outcomes[index] = outcome
            if self.failure is not None:
                return  # a child stopped because the Map failed: the failure stays the first cause
            if outcome.status == "refused":
                # The allowance went to other nodes' children meanwhile: no later call can get a place.
                self.end = self.next
                self.refusal = outcome.error
                if not self.continue_on_error:
                    self.failure = NodeError("child_run_limit", f"item {index}: {outcome.error}")
                return
            failed = outcome.status != "succeeded"
            if outcome.status == "cancelled" or (failed and not self.continue_on_error):
                error = _child_failure(outcome)
                self.failure = NodeError(error.kind, f"item {index}: {error.message}")
                return
            self.collected += size
            self._check_budget()

    def crashed(self, exc: Exception) -> None:
        with self.lock:
            if self.failure is None:
                self.failure = exc

    @staticmethod
    def _failed(index: int, outcome: ChildOutcome) -> dict[str, Any]:
        return {"index": index, "kind": "child_failed", "message": outcome.error}

    def _check_budget(self) -> None:
        # `collected` leaves out brackets and commas: a Map it lets through may still be refused, exactly,
        # by the executor; one it stops is over for certain.
        if self.budget is not None and self.collected > self.budget:
            self.failure = OutputTooLarge(
                f"the results so far take at least {self.collected:,} bytes; "
                f"this node's output may take at most {self.budget:,} bytes"
            )

    def output(self) -> dict[str, Any]:
        """`results` and `errors` in item order; an item never started was refused (the Map did not fail)."""
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        for index, outcome in enumerate(self.outcomes):
            if outcome is not None and outcome.status == "succeeded":
                results.append(outcome.outputs)
                continue
            results.append(None)
            if outcome is None or outcome.status == "refused":
                errors.append(self._refused(index))
            else:
                errors.append(self._failed(index, outcome))
        return {"results": results, "errors": errors}
