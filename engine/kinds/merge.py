"""Merge: re-joins branches by passing on the first input that got a value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeKind, NodeOutput, register
from engine.ports import Port


@register
class MergeKind(NodeKind):
    type = "merge"
    label = "Merge"
    description = (
        "Re-joins branches: outputs the first of its inputs, in edge order, that got a value; "
        "skipped only when none did."
    )
    palette_group = "Logic"
    palette_order = 90
    icon = "⋈"
    # A branch not taken contributes nothing to a list port, so the list holds only values.
    inputs = (Port("values", "any", multiple=True),)
    outputs = (Port("value", "any"),)

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        return [] if "values" in connected else [("", "connect at least one branch to merge")]

    def run(self, call: NodeCall) -> NodeOutput:
        return NodeOutput({"value": call.inputs["values"][0]})
