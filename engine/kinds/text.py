"""Text: a static piece of text typed into the node."""

from __future__ import annotations

from engine.kinds.base import NodeCall, NodeKind, NodeOutput, register
from engine.ports import Port


@register
class TextKind(NodeKind):
    type = "text"
    label = "Text"
    description = "A fixed piece of text."
    palette_group = "Inputs"
    palette_order = 20
    icon = "¶"
    summary = {"choose": [{"text": "{text}"}, {"text": "Empty text"}]}
    outputs = (Port("text", "text"),)
    data_schema = {
        "type": "object",
        "properties": {"text": {"type": "string", "title": "Text", "default": "", "multiline": True}},
    }

    def run(self, call: NodeCall) -> NodeOutput:
        return NodeOutput({"text": call.data["text"]})
