"""Debug: records whatever reaches it in the run log and passes it on unchanged."""

from __future__ import annotations

from engine.kinds.base import NodeCall, NodeKind, NodeOutput, register
from engine.ports import Port

_PREVIEW_CHARS = 500


@register
class DebugKind(NodeKind):
    type = "debug"
    label = "Debug"
    description = "Shows the value it receives in the run log and passes it through."
    palette_group = "Logic"
    palette_order = 70
    icon = "⌕"
    summary = {"choose": [{"text": "Shows what it receives"}]}
    inputs = (Port("value", "any"),)
    outputs = (Port("value", "any"),)
    data_schema = {"type": "object", "properties": {}}

    def run(self, call: NodeCall) -> NodeOutput:
        value = call.inputs.get("value")
        preview = repr(value)
        if len(preview) > _PREVIEW_CHARS:
            preview = preview[:_PREVIEW_CHARS] + "…"
        call.log("info", f"{call.data.get('label') or call.node_id}: {preview}")
        return NodeOutput({"value": value})
