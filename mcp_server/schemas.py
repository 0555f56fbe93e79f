"""A tool's JSON Schemas, read from its published graph's interface (the Input and Output nodes)."""

from __future__ import annotations

from typing import Any

import engine
from engine.interface import has_default

_INPUT_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "image": {"type": "string", "description": "An upload id or an http(s) URL of the image."},
}


def input_schema(interface: engine.Interface) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for spec in interface.inputs:
        schema = dict(_INPUT_SCHEMAS[spec.type])
        if spec.description:
            schema["description"] = spec.description
        if has_default({"default": spec.default}):
            schema["default"] = spec.default
        properties[spec.name] = schema
    required = [spec.name for spec in interface.inputs if spec.required]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def output_schema(interface: engine.Interface) -> dict[str, Any]:
    """Outputs carry any JSON value (an Output node passes on whatever reaches it), and none is required: an
    Output on a branch not taken has no value (clients check structuredContent against this schema)."""
    properties = {
        spec.name: {"description": spec.description} if spec.description else {} for spec in interface.outputs
    }
    return {"type": "object", "properties": properties}
