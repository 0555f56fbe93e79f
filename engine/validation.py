"""Graph validation: every problem at once, each with a path into the graph and a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.annotations import check_groups, check_notes
from engine.graph import Edge, Graph, Node, display_names, resolve_handle
from engine.interface import duplicate_name_issues
from engine.kinds.base import get_kind
from engine.kinds.handling import handling_problems
from engine.order import find_cycles, kahn_order, structural_edges
from engine.ports import types_compatible
from engine.schema import check_data


@dataclass(frozen=True)
class Limits:
    max_nodes: int = 500
    max_edges: int = 2000
    max_text_chars: int = 100_000
    max_notes: int = 200
    max_groups: int = 100


@dataclass(frozen=True)
class ValidationIssue:
    path: str  # e.g. "nodes[3].data.temperature", "edges[7].targetHandle"; "graph" for the root
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class GraphInvalid(Exception):
    def __init__(self, issues: list[ValidationIssue]) -> None:
        first = f"{issues[0].path}: {issues[0].message}" if issues else "invalid graph"
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(first + more)
        self.issues = issues


def validate_graph(graph: Any, *, limits: Limits = Limits(), complete: bool = True) -> list[ValidationIssue]:
    """All problems of `graph`, or [] when it is valid. Never raises on malformed input.

    `complete=False` checks a draft, as saved while still being drawn: structure, kinds, ports, types,
    cycles, data and limits, but not whether every node has its required inputs and settings to run.
    """
    return analyse_graph(graph, limits=limits, complete=complete)[0]


def ensure_valid(graph: Any, *, limits: Limits = Limits(), complete: bool = True) -> None:
    issues = validate_graph(graph, limits=limits, complete=complete)
    if issues:
        raise GraphInvalid(issues)


def execution_order(graph: Any) -> list[str]:
    """Node ids in execution order: Kahn's algorithm, ties broken by position in `nodes`.

    Only ids and edge endpoints matter here; raises GraphInvalid if the edges form a cycle.
    """
    if not isinstance(graph, Mapping):
        raise GraphInvalid([ValidationIssue("graph", "must be an object with nodes and edges")])
    node_ids, pairs = structural_edges(graph)
    order, leftover = kahn_order(node_ids, pairs)
    if leftover:
        raise GraphInvalid(_cycle_issues(graph, node_ids, pairs))
    return order


def _cycle_issues(
    graph: Mapping[str, Any], node_ids: list[str], pairs: list[tuple[str, str]]
) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    first_index: dict[str, int] = {}
    names = display_names(graph["nodes"])  # messages name nodes as people see them; the paths keep the ids
    for i, node in enumerate(graph["nodes"]):
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            first_index.setdefault(node["id"], i)
    for i, edge in enumerate(graph["edges"]):
        if (
            isinstance(edge, Mapping)
            and isinstance(edge.get("source"), str)
            and edge.get("source") == edge.get("target")
        ):
            issues.append(
                ValidationIssue(
                    f"edges[{i}]",
                    f"self-loop: {names.get(edge['source'], edge['source'])} is connected to itself",
                )
            )
    for group in find_cycles(node_ids, pairs):
        on_cycle = ", ".join(names.get(n, n) for n in group)
        issues.append(ValidationIssue(f"nodes[{first_index[group[0]]}]", f"cycle through {on_cycle}"))
    return issues


def analyse_graph(
    graph: Any, *, limits: Limits, complete: bool = True
) -> tuple[list[ValidationIssue], Graph]:
    """Validate and, as a by-product, build the parsed `Graph` (complete only when valid)."""
    checker = _Checker(limits, complete=complete)
    checker.run(graph)
    return checker.issues, checker.graph


class _Checker:
    def __init__(self, limits: Limits, *, complete: bool) -> None:
        self.limits = limits
        self.complete = complete
        self.issues: list[ValidationIssue] = []
        self.graph = Graph(nodes={})
        self.node_paths: dict[str, str] = {}  # first occurrence of each node id
        self.edge_paths: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.issues.append(ValidationIssue(path, message))

    def run(self, graph: Any) -> None:
        if not isinstance(graph, Mapping):
            self.add("graph", "must be an object with nodes and edges")
            return
        nodes = graph.get("nodes", [])
        edges = graph.get("edges", [])
        if not isinstance(nodes, list):
            self.add("nodes", "must be a list")
            nodes = []
        if not isinstance(edges, list):
            self.add("edges", "must be a list")
            edges = []
        if len(nodes) > self.limits.max_nodes:
            self.add("nodes", f"has {len(nodes):,} nodes; the limit is {self.limits.max_nodes:,}")
        if len(edges) > self.limits.max_edges:
            self.add("edges", f"has {len(edges):,} edges; the limit is {self.limits.max_edges:,}")
        for i, node in enumerate(nodes):
            self.check_node(i, node)
        resolved = [edge for i, raw in enumerate(edges) if (edge := self.check_edge(i, raw)) is not None]
        self.check_fan_in(resolved)
        for edge in resolved:
            self.graph.add_edge(edge)
        if self.complete:
            for node in self.graph.nodes.values():
                self.check_inputs(node)
            self.check_interface(graph)
        self.check_cycles(resolved)
        # Notes and groups never run; they are checked so that what is saved can be drawn again.
        if "notes" in graph:
            check_notes(graph["notes"], max_count=self.limits.max_notes, report=self.add)
        if "groups" in graph:
            check_groups(graph["groups"], self.node_paths, max_count=self.limits.max_groups, report=self.add)

    def check_node(self, i: int, node: Any) -> None:
        path = f"nodes[{i}]"
        if not isinstance(node, Mapping):
            self.add(path, "must be an object")
            return
        node_id = node.get("id")
        if not isinstance(node_id, str) or not node_id:
            self.add(f"{path}.id", "must be a non-empty string")
            node_id = None
        elif node_id in self.node_paths:
            self.add(f"{path}.id", f"duplicate id {node_id!r} (also {self.node_paths[node_id]})")
            node_id = None
        else:
            self.node_paths[node_id] = path
        position = node.get("position")
        if position is not None and not (
            isinstance(position, Mapping)
            and all(isinstance(position.get(axis), int | float) for axis in ("x", "y"))
        ):
            self.add(f"{path}.position", "must be an object with numeric x and y")
        data = node.get("data", {})
        if not isinstance(data, Mapping):
            self.add(f"{path}.data", "must be an object")
            data = {}
        type_name = node.get("type")
        kind = get_kind(type_name) if isinstance(type_name, str) else None
        if kind is None:
            self.add(f"{path}.type", f"unknown node type {type_name!r}")
            return
        for prop, message in check_data(kind.full_schema(), data, max_text_chars=self.limits.max_text_chars):
            self.add(f"{path}.data.{prop}", message)
        for prop, message in handling_problems(data):
            self.add(f"{path}.data.{prop}", message)
        if node_id is not None:
            inputs, outputs = kind.input_ports(data), kind.output_ports(data)
            self.graph.nodes[node_id] = Node(i, node_id, kind, data, inputs, outputs=outputs)

    def check_edge(self, i: int, edge: Any) -> Edge | None:
        path = f"edges[{i}]"
        if not isinstance(edge, Mapping):
            self.add(path, "must be an object")
            return None
        edge_id = edge.get("id")
        if not isinstance(edge_id, str) or not edge_id:
            self.add(f"{path}.id", "must be a non-empty string")
        elif edge_id in self.edge_paths:
            self.add(f"{path}.id", f"duplicate id {edge_id!r} (also {self.edge_paths[edge_id]})")
        else:
            self.edge_paths[edge_id] = path
        ends: dict[str, Node | None] = {}
        for end in ("source", "target"):
            node_id = edge.get(end)
            ends[end] = None
            if not isinstance(node_id, str):
                self.add(f"{path}.{end}", "must be a node id")
            elif node_id not in self.node_paths:
                self.add(f"{path}.{end}", f"no node with id {node_id!r}")
            else:
                ends[end] = self.graph.nodes.get(node_id)  # None when that node is itself invalid
        source, target = ends["source"], ends["target"]
        if isinstance(edge.get("source"), str) and edge.get("source") == edge.get("target"):
            looped = source.display_name if source is not None else edge["source"]
            self.add(path, f"self-loop: {looped} is connected to itself")
            return None
        if source is None or target is None:
            return None
        out_port, problem = resolve_handle(edge.get("sourceHandle"), source.outputs, "output")
        if problem and any(p.name == edge.get("sourceHandle") for p in source.kind.outputs):
            names = ", ".join(p.name for p in source.outputs)
            problem = f"output {edge['sourceHandle']!r} needs other settings of this node (ports: {names})"
        if problem:
            self.add(f"{path}.sourceHandle", problem)
        in_port, problem = resolve_handle(edge.get("targetHandle"), target.inputs, "input")
        if problem:
            self.add(f"{path}.targetHandle", problem)
        if out_port is None or in_port is None:
            return None
        if not types_compatible(out_port.type, in_port.type):
            self.add(
                path,
                f"type mismatch: {out_port.type} output {out_port.name!r} of {source.display_name} "
                f"cannot feed {in_port.type} input {in_port.name!r} of {target.display_name}",
            )
            return None
        return Edge(i, source.id, out_port.name, target.id, in_port.name, out_port.type, in_port.type)

    def check_fan_in(self, edges: list[Edge]) -> None:
        first: dict[tuple[str, str], Edge] = {}
        for edge in edges:
            key = (edge.target, edge.target_port)
            port = next(p for p in self.graph.nodes[edge.target].inputs if p.name == edge.target_port)
            if key in first and not port.multiple:
                target = self.graph.nodes[edge.target].display_name
                self.add(
                    f"edges[{edge.index}].targetHandle",
                    f"input {port.name!r} of {target} takes one edge, already has edges[{first[key].index}]",
                )
            first.setdefault(key, edge)

    def check_inputs(self, node: Node) -> None:
        path = self.node_paths[node.id]
        connected = frozenset(edge.target_port for edge in node.incoming)
        for port in node.inputs:
            if port.required and port.name not in connected:
                self.add(path, f"required input {port.name!r} has no incoming edge")
        for prop, message in node.kind.check(node.data, connected):
            self.add(f"{path}.data.{prop}" if prop else path, message)

    def check_interface(self, graph: Mapping[str, Any]) -> None:
        """Input and Output names are unique per side (each node's own name is its kind's `check`)."""
        for path, message in duplicate_name_issues(graph):
            self.add(path, message)

    def check_cycles(self, edges: list[Edge]) -> None:
        node_ids = list(self.graph.nodes)
        pairs = [(e.source, e.target) for e in edges]
        if not kahn_order(node_ids, pairs)[1]:
            return
        for group in find_cycles(node_ids, pairs):
            on_cycle = ", ".join(self.graph.nodes[n].display_name for n in group)
            self.add(self.node_paths[group[0]], f"cycle through {on_cycle}")
