"""The declarative rules a kind uses for ports that depend on its data, evaluated here for the engine and
by static/js/graph.js for the editor (both read them from the kind's catalog entry, so they cannot drift).

- a condition on `data` (a port's `when`, a summary part's `when`): `{"field": f, "notNull": true}`,
  `{"field": f, "notEmpty": true}` (not null, "", [] or {}), `{"field": f, "equals": v}`, or a list of
  conditions that must all hold;
- a port's `typeFrom`: `{"field": f, "oneOf": [types], "else": type}`;
- a kind's `inputsFrom` / `outputsFrom`, ports added after its fixed ones:
  `{"placeholders": f, "type": t, "required": bool}` (one port per `{{name}}` in the text field f; f may
  also be a list of fields, and a field holding rows, a list of objects, counts each text in them),
  `{"names": f, "type": t}` (one optional port per valid name in the list field f, in order, once each), or
  `{"interface": f, "side": "inputs"|"outputs", ...}` (one port per entry of the interface a resolved
  workflow in data field f declares: inputs typed by `typeOneOf`/`typeElse` and required as declared,
  outputs of `type`; `leaveOut` names the data field choosing the input that is fed otherwise: see
  `item_input`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.ports import Port

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def placeholder_names(template: str) -> list[str]:
    """Valid placeholder names in order of first appearance, without repeats."""
    names: list[str] = []
    for match in PLACEHOLDER.finditer(template):
        name = match.group(1).strip()
        if NAME.fullmatch(name) and name not in names:
            names.append(name)
    return names


def placeholder_names_in(texts: Sequence[str]) -> list[str]:
    """`placeholder_names` of several texts, in order, without repeats."""
    return list(dict.fromkeys(name for text in texts for name in placeholder_names(text)))


def placeholder_texts(data: Mapping[str, Any], fields: str | Sequence[str]) -> list[str]:
    """The texts of `data` whose placeholders are ports: each text field of `fields`, each text value in the
    rows of a field that holds rows, and each text value of a field that holds an object (MCP arguments)."""
    texts: list[str] = []
    for name in [fields] if isinstance(fields, str) else fields:
        value = data.get(name)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            rows = (row for row in value if isinstance(row, Mapping))
            texts.extend(text for row in rows for text in row.values() if isinstance(text, str))
        elif isinstance(value, Mapping):
            texts.extend(text for text in value.values() if isinstance(text, str))
    return texts


def holds(condition: Mapping[str, Any] | Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> bool:
    """Whether a rule's condition holds for a node's `data`."""
    if not isinstance(condition, Mapping):
        return all(holds(part, data) for part in condition)
    value = data.get(condition["field"])
    if "notNull" in condition:
        return (value is not None) == bool(condition["notNull"])
    if "notEmpty" in condition:
        empty = value is None or (isinstance(value, str | list | dict) and len(value) == 0)
        return empty != bool(condition["notEmpty"])
    if "equals" in condition:
        return value == condition["equals"] and type(value) is type(condition["equals"])
    raise ValueError(f"unknown condition {dict(condition)!r}")


def port_type(rule: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    value = data.get(rule["field"])
    return value if isinstance(value, str) and value in rule["oneOf"] else str(rule["else"])


def resolve_ports(ports: Sequence[Port], data: Mapping[str, Any]) -> tuple[Port, ...]:
    """The fixed ports as a node with this `data` has them: those whose `when` holds, typed by `typeFrom`."""
    if all(port.when is None and port.type_from is None for port in ports):
        return tuple(ports)
    return tuple(
        Port(
            port.name,
            port_type(port.type_from, data) if port.type_from is not None else port.type,
            port.required,
            port.multiple,
        )
        for port in ports
        if port.when is None or holds(port.when, data)
    )


def interface_of(data: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    """The interface of the resolved workflow in data field `field` (engine/calls.py), or None."""
    resolved = data.get(field)
    if not isinstance(resolved, Mapping) or not isinstance(resolved.get("interface"), Mapping):
        return None
    return resolved["interface"]


def interface_side(interface: Mapping[str, Any], side: str) -> list[Mapping[str, Any]]:
    specs = interface.get(side)
    return [spec for spec in specs if isinstance(spec, Mapping)] if isinstance(specs, list) else []


def item_input(data: Mapping[str, Any], *, field: str, interface: str) -> tuple[str | None, str | None]:
    """(name of the interface input each item goes to, problem): data field `field`, else the single
    required input; (None, None) while no workflow is resolved."""
    resolved = interface_of(data, interface)
    if resolved is None:
        return None, None
    specs = interface_side(resolved, "inputs")
    chosen = data.get(field)
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


def rule_ports(rule: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[Port, ...]:
    """The ports an `inputsFrom` / `outputsFrom` rule gives a node with this `data`."""
    if "placeholders" in rule:
        names = placeholder_names_in(placeholder_texts(data, rule["placeholders"]))
        return tuple(Port(name, rule["type"], required=bool(rule.get("required"))) for name in names)
    if "names" in rule:
        names = data.get(rule["names"])
        if not isinstance(names, list):
            return ()
        valid = [name for name in names if isinstance(name, str) and NAME.fullmatch(name)]
        return tuple(Port(name, rule["type"]) for name in dict.fromkeys(valid))
    if "interface" in rule:
        resolved = interface_of(data, rule["interface"])
        if resolved is None:
            return ()
        specs = interface_side(resolved, rule["side"])
        if rule["side"] == "outputs":
            return tuple(Port(str(spec.get("name")), rule["type"]) for spec in specs)
        leave_out = (
            item_input(data, field=rule["leaveOut"], interface=rule["interface"])[0]
            if rule.get("leaveOut")
            else None
        )
        return tuple(
            Port(
                str(spec.get("name")),
                spec["type"] if spec.get("type") in rule["typeOneOf"] else rule["typeElse"],
                bool(spec.get("required")),
            )
            for spec in specs
            if spec.get("name") != leave_out
        )
    raise ValueError(f"unknown port rule {dict(rule)!r}")
