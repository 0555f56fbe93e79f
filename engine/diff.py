"""What changed between two versions of a graph: nodes added, removed and changed (each changed field with
its old and new value), edges added and removed, the interface's inputs and outputs, and the notes and groups
drawn beside the nodes (by id); `labels` names every node of either version as people read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.graph import display_names
from engine.interface import graph_interface

# Where a node sits on the canvas is not a change to what it does.
_IGNORED_NODE_FIELDS = frozenset({"position", "selected", "dragging", "width", "height", "measured"})


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    return {str(item.get("id")): item for item in items or () if isinstance(item, Mapping)}


def _node_fields(node: Mapping[str, Any]) -> dict[str, Any]:
    """A node's fields as flat paths: `type`, `data.<field>`."""
    fields = {k: v for k, v in node.items() if k not in _IGNORED_NODE_FIELDS and k not in ("id", "data")}
    for key, value in (node.get("data") or {}).items():
        fields[f"data.{key}"] = value
    return fields


def _edge_key(edge: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(edge.get("source")),
        str(edge.get("sourceHandle") or ""),
        str(edge.get("target")),
        str(edge.get("targetHandle") or ""),
    )


def _edge_view(edge: Mapping[str, Any]) -> dict[str, Any]:
    source, source_handle, target, target_handle = _edge_key(edge)
    return {"source": source, "sourceHandle": source_handle, "target": target, "targetHandle": target_handle}


def _interface_changes(old: Any, new: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    before, after = graph_interface(old), graph_interface(new)
    for side in ("inputs", "outputs"):
        was = {spec.name: spec.as_dict() for spec in getattr(before, side)}
        now = {spec.name: spec.as_dict() for spec in getattr(after, side)}
        changes[side] = {
            "added": sorted(set(now) - set(was)),
            "removed": sorted(set(was) - set(now)),
            "changed": sorted(name for name in set(was) & set(now) if was[name] != now[name]),
        }
    return changes


def _annotation_changes(old: Any, new: Any) -> dict[str, list[str]]:
    """Notes or groups added, removed and changed, by id (a moved note counts: it is all a note is)."""
    before, after = _by_id(old), _by_id(new)
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(i for i in set(before) & set(after) if before[i] != after[i]),
    }


def graph_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The changes from `old` to `new` (each `{"nodes": [...], "edges": [...]}`), ids in sorted order."""
    old_nodes, new_nodes = _by_id(old.get("nodes")), _by_id(new.get("nodes"))
    changed = []
    for node_id in sorted(set(old_nodes) & set(new_nodes)):
        before, after = _node_fields(old_nodes[node_id]), _node_fields(new_nodes[node_id])
        fields = [
            {"field": field, "old": before.get(field), "new": after.get(field)}
            for field in sorted(set(before) | set(after))
            if before.get(field) != after.get(field)
        ]
        if fields:
            changed.append({"id": node_id, "type": new_nodes[node_id].get("type"), "fields": fields})
    old_edges = {_edge_key(e): e for e in _by_id(old.get("edges")).values()}
    new_edges = {_edge_key(e): e for e in _by_id(new.get("edges")).values()}
    return {
        "nodes": {
            "added": [
                {"id": i, "type": new_nodes[i].get("type")} for i in sorted(set(new_nodes) - set(old_nodes))
            ],
            "removed": [
                {"id": i, "type": old_nodes[i].get("type")} for i in sorted(set(old_nodes) - set(new_nodes))
            ],
            "changed": changed,
        },
        "edges": {
            "added": [_edge_view(new_edges[k]) for k in sorted(set(new_edges) - set(old_edges))],
            "removed": [_edge_view(old_edges[k]) for k in sorted(set(old_edges) - set(new_edges))],
        },
        "interface": _interface_changes(old, new),
        "notes": _annotation_changes(old.get("notes"), new.get("notes")),
        "groups": _annotation_changes(old.get("groups"), new.get("groups")),
        # A removed node keeps its old name; one in both versions goes by its new one.
        "labels": {**display_names(old.get("nodes") or []), **display_names(new.get("nodes") or [])},
    }
