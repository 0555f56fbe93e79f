"""Ports: the named, typed connection points of a node (React Flow's handles)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The wildcard type: it connects to and from every other type, unchanged.
WILDCARD = "any"
# Text and json connect to each other, converted on the way (see `convert`).
_CONVERTIBLE = (("text", "json"), ("json", "text"))


@dataclass(frozen=True)
class Port:
    """One input or output port. `required` and `multiple` only matter for inputs.

    A port that depends on the node's data says so declaratively (see engine/kinds/rules.py), so the
    editor evaluates the same rule the engine does: `when` (the port exists only when this condition on
    `data` holds, e.g. `{"field": "jsonSchema", "notNull": True}`) and `type_from` (the port's type is a
    data field's value, e.g. `{"field": "type", "oneOf": ["text", "image"], "else": "text"}`; `type` is
    then the widest type it can have). Neither is part of a port's identity.
    """

    name: str
    type: str
    required: bool = False
    multiple: bool = False
    when: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    type_from: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def _rules(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        if self.when is not None:
            rules["when"] = dict(self.when)
        if self.type_from is not None:
            rules["typeFrom"] = dict(self.type_from)
        return rules

    def as_input_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "multiple": self.multiple,
            **self._rules(),
        }

    def as_output_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, **self._rules()}


def port_type_rules() -> dict[str, Any]:
    """How port types connect, for the editor (served with the node-kind catalog): the same type, the
    wildcard either way, or one of the conversions."""
    return {"wildcard": WILDCARD, "conversions": [list(pair) for pair in _CONVERTIBLE]}


def types_compatible(source_type: str, target_type: str) -> bool:
    """Whether an output of `source_type` may feed an input of `target_type`.

    Port types are "text", "json" (any JSON value; lists are JSON arrays), "image" and "any", the
    wildcard carried by Debug: it connects to and from every other type. Text and json connect to
    each other.
    """
    return (
        source_type == target_type
        or WILDCARD in (source_type, target_type)
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
