"""The parsed form of a valid workflow graph that ordering and execution work on."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.kinds.base import NodeKind, get_kind
from engine.kinds.handling import ErrorHandling, error_handling
from engine.ports import Port


@dataclass(frozen=True)
class Edge:
    """An edge with its handles resolved to port names."""

    index: int  # position in the graph's `edges` list
    source: str
    source_port: str
    target: str
    target_port: str
    # The port types, for the conversion on the way (json reaches a text input as JSON text).
    source_type: str = "any"
    target_type: str = "any"


@dataclass
class Node:
    index: int  # position in the graph's `nodes` list: the deterministic tie-break
    id: str
    kind: NodeKind
    data: Mapping[str, Any]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    incoming: list[Edge] = field(default_factory=list)
    outgoing: list[Edge] = field(default_factory=list)
    outputs: tuple[Port, ...] = ()  # the kind's output ports with this node's data

    @property
    def display_name(self) -> str:
        """The node as people read it (the editor shows the same): its label, else its kind and number."""
        return display_name(self.id, self.kind.label, self.data)

    @property
    def disabled(self) -> bool:
        """Switched off in the editor: skipped, never run nor reused."""
        return self.data.get("disabled") is True

    @cached_property
    def handling(self) -> ErrorHandling:
        """What the node does when it fails (`onError`, `retry`, `timeoutSeconds`), read once."""
        return error_handling(self.data)


def display_name(node_id: str, kind_label: str, data: Mapping[str, Any]) -> str:
    """`data.label` when set; otherwise "LLM 2" for the id "llm-2", or "LLM my_id" for any other id."""
    label = data.get("label") if isinstance(data, Mapping) else None
    if isinstance(label, str) and label.strip():
        return label.strip()
    number = re.fullmatch(r"[A-Za-z_]+-(\d+)", node_id)
    return f"{kind_label} {number.group(1) if number else node_id}"


def display_names(nodes: Sequence[Any]) -> dict[str, str]:
    """Each node's `display_name` by id, for a graph as stored (React Flow nodes, possibly malformed)."""
    names: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            kind = get_kind(node.get("type")) if isinstance(node.get("type"), str) else None
            data = node.get("data") if isinstance(node.get("data"), Mapping) else {}
            names.setdefault(node["id"], display_name(node["id"], kind.label if kind else "Node", data))
    return names


@dataclass
class Graph:
    nodes: dict[str, Node]  # in list order

    def add_edge(self, edge: Edge) -> None:
        self.nodes[edge.source].outgoing.append(edge)
        self.nodes[edge.target].incoming.append(edge)


def resolve_handle(handle: Any, ports: Sequence[Port], side: str) -> tuple[Port | None, str | None]:
    """The port a handle names, or an error message.

    React Flow leaves handles null on nodes with a single handle, so null or missing means the
    only port on that side.
    """
    if handle is None:
        if len(ports) == 1:
            return ports[0], None
        if not ports:
            return None, f"the node has no {side} ports"
        names = ", ".join(p.name for p in ports)
        return None, f"the node has several {side} ports ({names}); name one"
    if not isinstance(handle, str):
        return None, "must be a string or null"
    for port in ports:
        if port.name == handle:
            return port, None
    names = ", ".join(p.name for p in ports) or "none"
    return None, f"no {side} port named {handle!r} (ports: {names})"
