"""Extract: one JSONPath over a JSON value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.kinds.jsonpaths import find, is_singular, path_problem
from engine.ports import Port, compact_json


@register
class ExtractKind(NodeKind):
    type = "extract"
    label = "Extract"
    description = (
        "Picks part of a JSON value with a JSONPath: $.name for one value (the node fails if it is "
        "missing), a wildcard or filter such as $.items[*].name for the list of every match."
    )
    palette_group = "Logic"
    palette_order = 100
    icon = "{}"
    inputs = (Port("value", "json", required=True),)
    outputs = (Port("value", "json"), Port("text", "text"))
    data_schema = {
        "type": "object",
        "properties": {"path": {"type": "string", "title": "JSONPath", "default": "$"}},
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problem = path_problem(data.get("path", "$"))
        return [("path", problem)] if problem else []

    def run(self, call: NodeCall) -> NodeOutput:
        path: str = call.data["path"]
        matches = find(path, call.inputs["value"])
        if is_singular(path):
            if not matches:
                raise NodeError("no_match", f"{path} matched nothing in the input")
            value = matches[0]
        else:
            value = matches
        return NodeOutput({"value": value, "text": value if isinstance(value, str) else compact_json(value)})
