"""Sticky notes and groups: what a person draws on the canvas beside the nodes, saved with the graph and
never executed. A graph may carry `notes` and `groups` lists next to `nodes` and `edges`; the run, its plan
and its content keys read only nodes and edges, so these change nothing about what runs.

A note: `{id, position: {x, y}, width, height, text, color}`.
A group: `{id, title, nodes: [node ids], color}`; its frame is drawn around its nodes, so it stores no
geometry of its own."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

NOTE_COLORS = ("yellow", "blue", "green", "pink", "grey")
GROUP_COLORS = NOTE_COLORS
# A note between a word and a page; the editor resizes within these bounds.
NOTE_MIN_SIZE = 60
NOTE_MAX_SIZE = 2000
NOTE_MAX_TEXT = 10_000
GROUP_TITLE_MAX = 200

Report = Callable[[str, str], None]


def _check_id(path: str, item: Mapping[str, Any], seen: dict[str, str], report: Report) -> None:
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        report(f"{path}.id", "must be a non-empty string")
    elif item_id in seen:
        report(f"{path}.id", f"duplicate id {item_id!r} (also {seen[item_id]})")
    else:
        seen[item_id] = path


def _check_text(path: str, item: Mapping[str, Any], field: str, limit: int, report: Report) -> None:
    """`item[field]`, when given, is a string of at most `limit` characters."""
    text = item.get(field, "")
    if not isinstance(text, str):
        report(f"{path}.{field}", "must be a string")
    elif len(text) > limit:
        report(f"{path}.{field}", f"is {len(text):,} characters long; the limit is {limit:,}")


def _check_color(path: str, item: Mapping[str, Any], colors: tuple[str, ...], report: Report) -> None:
    if "color" in item and item["color"] not in colors:
        report(f"{path}.color", "must be one of " + ", ".join(repr(c) for c in colors))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _objects(
    key: str, items: Any, *, max_count: int, report: Report
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The list `key`'s objects with their paths, once the list, its length, each item's shape and each id
    (present, a string, unique) are checked."""
    if not isinstance(items, list):
        report(key, "must be a list")
        return
    if len(items) > max_count:
        report(key, f"has {len(items):,} {key}; the limit is {max_count:,}")
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        path = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            report(path, "must be an object")
            continue
        _check_id(path, item, seen, report)
        yield path, item


def check_notes(notes: Any, *, max_count: int, report: Report) -> None:
    for path, note in _objects("notes", notes, max_count=max_count, report=report):
        position = note.get("position")
        if not (isinstance(position, Mapping) and all(_is_number(position.get(axis)) for axis in ("x", "y"))):
            report(f"{path}.position", "must be an object with numeric x and y")
        for side in ("width", "height"):
            value = note.get(side)
            if not _is_number(value) or not NOTE_MIN_SIZE <= value <= NOTE_MAX_SIZE:
                report(f"{path}.{side}", f"must be a number from {NOTE_MIN_SIZE} to {NOTE_MAX_SIZE}")
        _check_text(path, note, "text", NOTE_MAX_TEXT, report)
        _check_color(path, note, NOTE_COLORS, report)


def check_groups(groups: Any, node_ids: Collection[str], *, max_count: int, report: Report) -> None:
    """Each group names nodes of the graph, each node in at most one group (a frame moves its nodes)."""
    grouped: dict[str, str] = {}
    for path, group in _objects("groups", groups, max_count=max_count, report=report):
        _check_text(path, group, "title", GROUP_TITLE_MAX, report)
        _check_color(path, group, GROUP_COLORS, report)
        members = group.get("nodes")
        if not isinstance(members, list) or not members:
            report(f"{path}.nodes", "must be a non-empty list of node ids")
            continue
        for j, member in enumerate(members):
            where = f"{path}.nodes[{j}]"
            if not isinstance(member, str) or member not in node_ids:
                report(where, f"no node with id {member!r}")
            elif member in grouped:
                report(where, f"node {member!r} is already in {grouped[member]}")
            else:
                grouped[member] = path
