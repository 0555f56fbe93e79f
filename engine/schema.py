"""A small checker for the JSON Schema subset that node kinds use to describe their `data`.

The same schema dicts feed the editor's forms (through the catalog) and this checker, so the two
cannot drift. Supported keywords: `type` (a name or a list of names, `object` and `array`
included), `enum`, `minimum`, `maximum`, `maxLength` and `default`. An object or array counts
against the text limit by the length of its compact JSON; kinds check its inside in `check`.
An array's `items` (an object schema with `properties` and `required`) is not checked here: it tells
the editor's form what one element holds, so that it edits a row per element (the Condition's rules);
any other object or array is edited as JSON text.
`multiline: true` on a string asks the editor for a text area (no check).
Unknown properties are kept, not rejected: React Flow and future editors may store their own
keys in `data`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from engine.ports import compact_json

_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
    "object": "an object",
    "array": "a list",
}


def _has_type(value: Any, name: str) -> bool:
    # bool is an int in Python but never a number in JSON.
    if name == "string":
        return isinstance(value, str)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "object":
        return isinstance(value, Mapping)
    if name == "array":
        return isinstance(value, list)
    raise ValueError(f"unsupported schema type {name!r}")


def check_value(schema: Mapping[str, Any], value: Any, *, max_text_chars: int) -> str | None:
    """Return a message describing why `value` breaks `schema`, or None if it conforms."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if types and not any(_has_type(value, t) for t in types):
        return "must be " + " or ".join(_TYPE_NAMES[t] for t in types)
    if "enum" in schema and value not in schema["enum"]:
        return "must be one of " + ", ".join(repr(v) for v in schema["enum"])
    if isinstance(value, str):
        limit = min(schema.get("maxLength", max_text_chars), max_text_chars)
        if len(value) > limit:
            return f"is {len(value):,} characters long; the limit is {limit:,}"
    if isinstance(value, Mapping | list):
        size = len(compact_json(value))
        if size > max_text_chars:
            return f"is {size:,} characters long as JSON; the limit is {max_text_chars:,}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"must be at most {schema['maximum']}"
    return None


def check_data(
    schema: Mapping[str, Any], data: Mapping[str, Any], *, max_text_chars: int
) -> list[tuple[str, str]]:
    """Check an object against an object schema; returns (property, message) pairs."""
    problems: list[tuple[str, str]] = []
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in data:
            problems.append((name, "is required"))
    for name, value in data.items():
        if name in properties:
            message = check_value(properties[name], value, max_text_chars=max_text_chars)
        elif isinstance(value, str) and len(value) > max_text_chars:
            # Extra keys are kept, but they still count against the text limit.
            message = f"is {len(value):,} characters long; the limit is {max_text_chars:,}"
        else:
            message = None
        if message:
            problems.append((name, message))
    return problems


def apply_defaults(
    schema: Mapping[str, Any], data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`data` with missing properties filled from `overrides`, then from the schema's defaults."""
    filled: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if overrides and name in overrides:
            filled[name] = overrides[name]
        elif "default" in prop:
            # The schema is shared (NodeKind.full_schema): a list or object default is the node's own copy.
            default = prop["default"]
            filled[name] = copy.deepcopy(default) if isinstance(default, list | dict) else default
    filled.update(data)
    return filled
