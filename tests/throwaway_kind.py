"""A node kind only the tests register: proof that a kind is one class, and that the editor needs no change
for it (tests/browser/test_new_kind.py). Its `mark` output exists only when `withMark` is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from engine.kinds import NodeCall, NodeKind, NodeOutput, register, unregister
from engine.ports import Port


class StampKind(NodeKind):
    type = "stamp"
    label = "Stamp"
    description = "Puts a mark after its text (a kind only the tests register)."
    palette_group = "Test kit"
    palette_order = 135
    icon = "✂"
    summary = {
        "choose": [{"text": "Stamps {mark}"}, {"text": "No mark"}],
        "append": [{"when": {"field": "withMark", "equals": True}, "text": " · mark output"}],
    }
    inputs = (Port("text", "text", required=True),)
    outputs = (Port("text", "text"), Port("mark", "json", when={"field": "withMark", "equals": True}))
    data_schema = {
        "type": "object",
        "properties": {
            "mark": {"type": "string", "title": "Mark", "default": "✓"},
            "withMark": {"type": "boolean", "title": "Output the mark", "default": False},
        },
    }

    def run(self, call: NodeCall) -> NodeOutput:
        mark = call.data["mark"]
        return NodeOutput({"text": f"{call.inputs['text']} {mark}", "mark": {"mark": mark}})


@contextmanager
def stamp_registered() -> Iterator[type[StampKind]]:
    """The Stamp kind, registered for the length of the block (the engine's registry is process-wide)."""
    register(StampKind)
    try:
        yield StampKind
    finally:
        unregister(StampKind.type)
