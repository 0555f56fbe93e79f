"""Ports: the named, typed connection points of a node (React Flow's handles)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Text and json connect to each other, converted on the way (see `convert`).
_CONVERTIBLE = {("text", "json"), ("json", "text")}


@dataclass(frozen=True)
class Port:
    """One input or output port. `required` and `multiple` only matter for inputs."""

    name: str
    type: str
    required: bool = False
    multiple: bool = False

    def as_input_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required, "multiple": self.multiple}

    def as_output_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type}


def types_compatible(source_type: str, target_type: str) -> bool:
    """Whether an output of `source_type` may feed an input of `target_type`.

    Port types are "text", "json" (any JSON value; lists are JSON arrays), "image" and "any", the
    wildcard carried by Debug: it connects to and from every other type. Text and json connect to
    each other.
    """
    return (
        source_type == target_type
        or "any" in (source_type, target_type)
        or (source_type, target_type) in _CONVERTIBLE
    )


def compact_json(value: Any) -> str:
    """`value` as compact JSON text (no spaces after separators, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def convert(value: Any, source_type: str, target_type: str) -> Any:
    """`value` as it arrives at a `target_type` input from a `source_type` output.

    Text reaches a json input as a JSON string (unchanged); json reaches a text input as its compact
    JSON text, so a JSON string arrives quoted. Every other pair passes the value through.
    """
    if source_type == "json" and target_type == "text":
        return compact_json(value)
    return value
