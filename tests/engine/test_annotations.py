"""Sticky notes and groups in a graph: checked with field paths, ignored by what runs, seen by the diff."""

from __future__ import annotations

from engine import execution_order, validate_graph
from engine.diff import graph_diff
from engine.validation import Limits
from tests.graphs import node_group, sticky_note, text_to_debug_graph


def _paths(graph: dict) -> dict[str, str]:
    return {issue.path: issue.message for issue in validate_graph(graph)}


def test_a_graph_with_notes_and_groups_is_valid_and_runs_the_same_nodes():
    graph = {**text_to_debug_graph(), "notes": [sticky_note()], "groups": [node_group()]}

    assert validate_graph(graph) == []
    assert execution_order(graph) == ["text-1", "debug-1"]


def test_bad_notes_are_reported_at_their_fields():
    graph = {
        **text_to_debug_graph(),
        "notes": [
            sticky_note(color="purple", width=5),
            sticky_note(position={"x": "left"}, text=7, height=True),
            "a note",
            {"position": {"x": 0, "y": 0}, "width": 100, "height": 100},
        ],
    }

    paths = _paths(graph)

    assert paths == {
        "notes[0].color": "must be one of 'yellow', 'blue', 'green', 'pink', 'grey'",
        "notes[0].width": "must be a number from 60 to 2000",
        "notes[1].id": "duplicate id 'note-1' (also notes[0])",
        "notes[1].position": "must be an object with numeric x and y",
        "notes[1].height": "must be a number from 60 to 2000",
        "notes[1].text": "must be a string",
        "notes[2]": "must be an object",
        "notes[3].id": "must be a non-empty string",
    }


def test_groups_name_existing_nodes_each_in_one_group_only():
    graph = {
        **text_to_debug_graph(),
        "groups": [
            node_group("g1", ["text-1"]),
            node_group("g2", ["text-1", "ghost"], title="x" * 201),
            node_group("g3", []),
        ],
    }

    assert _paths(graph) == {
        "groups[1].title": "is 201 characters long; the limit is 200",
        "groups[1].nodes[0]": "node 'text-1' is already in groups[0]",
        "groups[1].nodes[1]": "no node with id 'ghost'",
        "groups[2].nodes": "must be a non-empty list of node ids",
    }


def test_notes_and_groups_must_be_lists_within_their_limits():
    assert _paths({**text_to_debug_graph(), "notes": {}, "groups": "g"}) == {
        "notes": "must be a list",
        "groups": "must be a list",
    }
    many = {**text_to_debug_graph(), "notes": [sticky_note(f"n{i}") for i in range(3)]}
    issues = validate_graph(many, limits=Limits(max_notes=2))
    assert [(i.path, i.message) for i in issues] == [("notes", "has 3 notes; the limit is 2")]


def test_the_diff_lists_notes_and_groups_added_removed_and_changed():
    old = {**text_to_debug_graph(), "notes": [sticky_note("a"), sticky_note("b")], "groups": []}
    new = {
        **text_to_debug_graph(),
        "notes": [sticky_note("a", text="edited"), sticky_note("c")],
        "groups": [node_group()],
    }

    diff = graph_diff(old, new)

    assert diff["notes"] == {"added": ["c"], "removed": ["b"], "changed": ["a"]}
    assert diff["groups"] == {"added": ["group-1"], "removed": [], "changed": []}
    assert diff["nodes"] == {"added": [], "removed": [], "changed": []}
