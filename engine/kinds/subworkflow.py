"""Sub-workflow and Map: run another workflow of the same user as a child run, once or once per item.

Their ports follow the callee's interface, which the apps resolve into `data.callee` before validation
(engine/calls.py); the child runs themselves are recorded and executed by `context.workflows`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from engine.calls import (
    MAP_KIND,
    SUBWORKFLOW_KIND,
    ChildOutcome,
    WorkflowCaller,
    callee_inputs,
    callee_of,
    callee_outputs,
)
from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.ports import Port, compact_json

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


def _input_ports(callee: Mapping[str, Any] | None, *, leave_out: str | None = None) -> tuple[Port, ...]:
    if callee is None:
        return ()
    return tuple(
        Port(
            str(spec.get("name")),
            "image" if spec.get("type") == "image" else "text",
            bool(spec.get("required")),
        )
        for spec in callee_inputs(callee)
        if spec.get("name") != leave_out
    )


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
    dynamic_inputs = True
    dynamic_outputs = True
    runs_workflows = True
    data_schema = {"type": "object", "properties": dict(_CALLEE_DATA)}

    def input_ports(self, data: Mapping[str, Any]) -> tuple[Port, ...]:
        return _input_ports(callee_of(data))

    def output_ports(self, data: Mapping[str, Any]) -> tuple[Port, ...]:
        callee = callee_of(data)
        return tuple(Port(str(o.get("name")), "any") for o in callee_outputs(callee)) if callee else ()

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        return _callee_check(data)

    def reusable(self, data: Mapping[str, Any]) -> bool:
        return _reusable(data)

    def llm_calls(self, data: Mapping[str, Any]) -> int:
        return _callee_llm_calls(data)

    def run(self, call: NodeCall) -> NodeOutput:
        caller, callee = _caller(call)
        outcome = caller.call(node_id=call.node_id, callee=callee, inputs=dict(call.inputs), log=call.log)
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
    callee = callee_of(data)
    if callee is None:
        return None, None
    specs = callee_inputs(callee)
    chosen = data.get("itemInput")
    if chosen:
        if not any(s.get("name") == chosen for s in specs):
            names = ", ".join(str(s.get("name")) for s in specs) or "none"
            return None, f"the workflow has no input named {chosen!r} (inputs: {names})"
        return chosen, None
    required = [str(s.get("name")) for s in specs if s.get("required")]
    if len(required) == 1:
        return required[0], None
    if not specs:
        return None, "the workflow has no Input node to receive the items"
    return None, "choose the input that receives each item (the workflow has no single required input)"


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
    dynamic_inputs = True
    runs_workflows = True
    # `items` is listed in the catalog; the callee's other inputs follow it (input_ports).
    inputs = (Port("items", "json", required=True),)
    outputs = (Port("results", "json"), Port("errors", "json"))
    data_schema = {
        "type": "object",
        "properties": {
            **_CALLEE_DATA,
            "itemInput": {
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

    def input_ports(self, data: Mapping[str, Any]) -> tuple[Port, ...]:
        name, _ = item_input(data)
        return (*self.inputs, *_input_ports(callee_of(data), leave_out=name))

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
        outcomes: list[ChildOutcome | None] = [None] * len(items)
        state = {"next": 0, "stop": False}
        lock = threading.Lock()

        def work() -> None:
            # Each worker takes the next item until none is left, so at most `concurrency` children run.
            while True:
                with lock:
                    if state["stop"] or state["next"] >= len(items):
                        return
                    index = state["next"]
                    state["next"] += 1
                inputs = {**shared, name: _item_value(items[index], spec_type)}
                outcome = caller.call(
                    node_id=call.node_id, callee=callee, inputs=inputs, log=call.log, item=index
                )
                outcomes[index] = outcome
                failed = outcome.status != "succeeded"
                if outcome.status == "cancelled" or (failed and not call.data["continueOnError"]):
                    with lock:
                        state["stop"] = True

        workers = [
            threading.Thread(target=work, name=f"weft-map-{call.node_id}-{i}", daemon=True)
            for i in range(min(call.data["concurrency"], len(items)))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        for index, outcome in enumerate(outcomes):
            if outcome is None:
                continue  # never started: the map stopped early and fails below
            if outcome.status == "succeeded":
                results.append(outcome.outputs)
                continue
            if outcome.status == "cancelled" or not call.data["continueOnError"]:
                error = _child_failure(outcome)
                raise NodeError(error.kind, f"item {index}: {error.message}")
            results.append(None)
            errors.append({"index": index, "kind": "child_failed", "message": outcome.error})
        return NodeOutput({"results": results, "errors": errors})
