"""The parsed form of a valid workflow graph that ordering and execution work on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.kinds.base import NodeKind
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
    incoming: list[Edge] = field(default_factory=list)
    outgoing: list[Edge] = field(default_factory=list)
    outputs: tuple[Port, ...] = ()  # the kind's output ports with this node's data


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
