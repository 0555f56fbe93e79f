"""A workflow's interface: the named inputs and outputs its Input and Output nodes declare.

`graph_interface` derives it, `duplicate_name_issues` finds names used twice on one side,
`check_input_values` checks the values a caller sends against it, and `bind_inputs` writes those
values into a copy of the graph, where the Input nodes read them (so content keys include them).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INPUT_KIND = "input"
OUTPUT_KIND = "output"
INPUT_TYPES = ("text", "image")
NAME_MAX_CHARS = 64
# The key of an Input node's `data` that holds the value bound for one run; never stored by the editor.
BOUND_VALUE_KEY = "boundValue"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class InputsInvalid(Exception):
    """Values for a workflow's inputs that do not fit its interface; `issues` have `inputs.<name>` paths."""

    def __init__(self, issues: list[Any]) -> None:
        first = f"{issues[0].path}: {issues[0].message}" if issues else "invalid inputs"
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(first + more)
        self.issues = issues


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: str
    required: bool
    default: Any
    description: str
    node_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "description": self.description,
        }


@dataclass(frozen=True)
class OutputSpec:
    name: str
    description: str
    node_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": "any", "description": self.description}


@dataclass(frozen=True)
class Interface:
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {"inputs": [i.as_dict() for i in self.inputs], "outputs": [o.as_dict() for o in self.outputs]}


def name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        return "must be an identifier: letters, digits and _, not starting with a digit"
    if len(name) > NAME_MAX_CHARS:
        return f"must be at most {NAME_MAX_CHARS} characters"
    return None


def has_default(data: Mapping[str, Any]) -> bool:
    """An empty string counts as no default: it is what a cleared form field sends."""
    return data.get("default") not in (None, "")


def input_required(data: Mapping[str, Any]) -> bool:
    """`required` when set; otherwise required exactly when there is no default."""
    required = data.get("required")
    return required if isinstance(required, bool) else not has_default(data)


def _io_nodes(graph: Any, kind: str) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(graph, Mapping) or not isinstance(graph.get("nodes"), list):
        return []
    return [
        (i, node)
        for i, node in enumerate(graph["nodes"])
        if isinstance(node, Mapping) and node.get("type") == kind
    ]


def _data(node: Mapping[str, Any]) -> Mapping[str, Any]:
    data = node.get("data")
    return data if isinstance(data, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def graph_interface(graph: Any) -> Interface:
    """The interface of `graph`, in node order. Tolerant of drafts: nodes whose name is not a valid
    identifier are left out, and of two nodes with one name the first counts."""
    inputs: dict[str, InputSpec] = {}
    for _, node in _io_nodes(graph, INPUT_KIND):
        data = _data(node)
        name = data.get("name")
        if name_problem(name) is None and name not in inputs:
            type_ = data.get("type") if data.get("type") in INPUT_TYPES else "text"
            inputs[name] = InputSpec(
                name=name,
                type=type_,
                required=input_required(data),
                default=data.get("default") if has_default(data) else None,
                description=_text(data.get("description")),
                node_id=str(node.get("id")),
            )
    outputs: dict[str, OutputSpec] = {}
    for _, node in _io_nodes(graph, OUTPUT_KIND):
        data = _data(node)
        name = data.get("name")
        if name_problem(name) is None and name not in outputs:
            outputs[name] = OutputSpec(name, _text(data.get("description")), str(node.get("id")))
    return Interface(tuple(inputs.values()), tuple(outputs.values()))


def duplicate_name_issues(graph: Any) -> list[tuple[str, str]]:
    """(path, message) for every Input or Output node whose name an earlier node of its kind has.

    Whether each name is an identifier is the node kind's own check.
    """
    issues: list[tuple[str, str]] = []
    for kind in (INPUT_KIND, OUTPUT_KIND):
        seen: dict[str, int] = {}
        for i, node in _io_nodes(graph, kind):
            name = _data(node).get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                issues.append(
                    (f"nodes[{i}].data.name", f"{kind} name {name!r} is already used by nodes[{seen[name]}]")
                )
            else:
                seen[name] = i
    return issues


def image_reference(value: str) -> dict[str, Any]:
    """An image given as a string: an upload id when it is a UUID, else a URL."""
    try:
        return {"uploadId": str(uuid.UUID(value)), "url": None}
    except ValueError:
        return {"uploadId": None, "url": value}


def _image_value(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value:
        return image_reference(value)
    if isinstance(value, Mapping):
        upload_id, url = value.get("uploadId"), value.get("url")
        if isinstance(upload_id, str) and upload_id and not url:
            return {"uploadId": upload_id, "url": None}
        if isinstance(url, str) and url and not upload_id:
            return {"uploadId": None, "url": url}
    return None


def check_input_values(
    interface: Interface, values: Mapping[str, Any], *, max_text_chars: int, require_all: bool = True
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The values normalised (text as given, images as `{"uploadId", "url"}` references), and every
    problem as (path, message): unknown names, wrong types and, with `require_all`, missing required
    inputs."""
    specs = {spec.name: spec for spec in interface.inputs}
    issues: list[tuple[str, str]] = []
    normalised: dict[str, Any] = {}
    for name, value in values.items():
        spec = specs.get(name)
        path = f"inputs.{name}"
        if spec is None:
            known = ", ".join(specs) or "none"
            issues.append((path, f"the workflow has no input named {name!r} (inputs: {known})"))
        elif spec.type == "text":
            if not isinstance(value, str):
                issues.append((path, "must be a string (a text input)"))
            elif len(value) > max_text_chars:
                issues.append((path, f"is {len(value):,} characters long; the limit is {max_text_chars:,}"))
            else:
                normalised[name] = value
        else:
            reference = _image_value(value)
            if reference is None:
                issues.append((path, "must be an upload id or an http(s) URL (an image input)"))
            else:
                normalised[name] = reference
    for spec in interface.inputs:
        if require_all and spec.required and spec.name not in values:
            issues.append((f"inputs.{spec.name}", "is required"))
    return normalised, issues


def bind_inputs(graph: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `graph` whose Input nodes carry the values for one run (or none: their default)."""
    bound = dict(graph)
    nodes = []
    for node in graph.get("nodes", []):
        if isinstance(node, Mapping) and node.get("type") == INPUT_KIND:
            data = {k: v for k, v in _data(node).items() if k != BOUND_VALUE_KEY}
            name = data.get("name")
            if isinstance(name, str) and name in values:
                data[BOUND_VALUE_KEY] = copy.deepcopy(values[name])
            node = {**node, "data": data}
        nodes.append(node)
    bound["nodes"] = nodes
    return bound
