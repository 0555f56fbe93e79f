"""Input and Output: the named values a workflow takes from its caller and hands back (its interface).

See engine/interface.py for how the interface is derived and how a run's values reach the Input nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.interface import (
    BOUND_VALUE_KEY,
    INPUT_KIND,
    INPUT_TYPES,
    NAME_MAX_CHARS,
    OUTPUT_KIND,
    has_default,
    image_reference,
    input_required,
    name_problem,
)
from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.ports import Port
from engine.storage import ImageDigests

_NAME = {"type": "string", "title": "Name", "maxLength": NAME_MAX_CHARS}
_DESCRIPTION = {"type": "string", "title": "Description", "default": "", "maxLength": 1000}


def _name_check(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    problem = name_problem(data.get("name"))
    return [("name", problem)] if problem else []


def _text_value(data: Mapping[str, Any]) -> Any:
    return data[BOUND_VALUE_KEY] if BOUND_VALUE_KEY in data else data.get("default")


def _image_value(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The image reference an image input outputs: the bound one, else its default's, else None."""
    if BOUND_VALUE_KEY in data:
        return data[BOUND_VALUE_KEY]
    return image_reference(data["default"]) if has_default(data) else None


@register
class InputKind(NodeKind):
    type = INPUT_KIND
    label = "Input"
    description = "A value the caller gives when running the workflow (API, webhook, schedule, Run form)."
    palette_group = "Inputs"
    palette_order = 10
    icon = "⇥"
    interface_role = "input"
    # The catalog lists the widest type; a node's port has the input's type.
    outputs = (Port("value", "any", type_from={"field": "type", "oneOf": list(INPUT_TYPES), "else": "text"}),)
    data_schema = {
        "type": "object",
        "properties": {
            "name": _NAME,
            "type": {"type": "string", "title": "Type", "enum": list(INPUT_TYPES), "default": "text"},
            "default": {
                "type": ["string", "null"],
                "title": "Default (text, or an upload id or URL for an image)",
                "default": None,
            },
            "description": _DESCRIPTION,
            "required": {
                "type": ["boolean", "null"],
                # null: required exactly when there is no default (the editor shows it as a choice).
                "enum": [None, True, False],
                "title": "Required (null: when there is no default)",
                "default": None,
            },
        },
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        return _name_check(data)

    def external_digest(self, data: Mapping[str, Any], digests: ImageDigests | None) -> str | None:
        # As for an Image node: what an image input feeds is its bytes, known for an upload and
        # unknown for a URL (its bytes may change), so that reuse never serves a stale picture.
        if data.get("type") != "image":
            return None
        ref = _image_value(data)
        if ref is None:
            return None  # no picture at all: it outputs nothing, which its own key describes
        if digests is None or not ref.get("uploadId"):
            return ""
        return digests.digest(ref) or ""

    def run(self, call: NodeCall) -> NodeOutput:
        data = call.data
        if BOUND_VALUE_KEY in data or has_default(data):
            value = _image_value(data) if data["type"] == "image" else _text_value(data)
        elif input_required(data):
            raise NodeError("missing_input", f"input {data.get('name')!r} is required and was not given")
        elif data["type"] == "image":
            # No picture: the output is left out, as a branch not taken is, so that what it feeds
            # does without it (an LLM's optional images) or is skipped (what needs it).
            return NodeOutput({})
        else:
            value = ""
        return NodeOutput({"value": value})


@register
class OutputKind(NodeKind):
    type = OUTPUT_KIND
    label = "Output"
    description = "A named result of the workflow, returned to whoever ran it."
    palette_group = "Outputs"
    palette_order = 130
    icon = "⇤"
    interface_role = "output"
    inputs = (Port("value", "any", required=True),)
    data_schema = {
        "type": "object",
        "properties": {"name": _NAME, "description": _DESCRIPTION},
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        return _name_check(data)

    def run(self, call: NodeCall) -> NodeOutput:
        return NodeOutput({"value": call.inputs.get("value")})
