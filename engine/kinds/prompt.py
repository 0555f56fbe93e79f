"""Prompt: a template whose `{{name}}` placeholders become input ports."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeKind, NodeOutput, OutputTooLarge, register
from engine.kinds.rules import NAME, PLACEHOLDER
from engine.ports import Port


def invalid_placeholders(template: str) -> list[str]:
    return [m.group(0) for m in PLACEHOLDER.finditer(template) if not NAME.fullmatch(m.group(1).strip())]


def as_text(value: Any) -> str:
    """How a non-text value (a Debug pass-through, an image reference) appears in a prompt."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register
class PromptKind(NodeKind):
    type = "prompt"
    label = "Prompt"
    description = "A template; each {{name}} placeholder is an input port filled from an edge."
    palette_group = "Inputs"
    palette_order = 30
    icon = "✎"
    summary = {"choose": [{"text": "{template}"}, {"text": "Empty template"}]}
    outputs = (Port("text", "text"),)
    # One required text input per placeholder of the template.
    inputs_from = {"placeholders": "template", "type": "text", "required": True}
    data_schema = {
        "type": "object",
        "properties": {"template": {"type": "string", "title": "Template", "default": "", "multiline": True}},
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        template = data.get("template")
        if not isinstance(template, str):
            return []
        return [
            ("template", f"unknown placeholder {bad}: names are letters, digits and _, like {{{{topic}}}}")
            for bad in invalid_placeholders(template)
        ]

    def run(self, call: NodeCall) -> NodeOutput:
        template: str = call.data["template"]
        texts = {name: as_text(value) for name, value in call.inputs.items()}
        # A short template repeating a placeholder multiplies its input: measure before allocating.
        if call.max_output_bytes is not None:
            size = rendered_size(template, texts)
            if size > call.max_output_bytes:
                raise OutputTooLarge(
                    f"the rendered prompt would be {size:,} bytes; "
                    f"this node's output may take at most {call.max_output_bytes:,} bytes"
                )

        def fill(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            return texts.get(name, match.group(0))

        return NodeOutput({"text": PLACEHOLDER.sub(fill, template)})


def rendered_size(template: str, texts: Mapping[str, str]) -> int:
    """UTF-8 bytes of `template` with its placeholders filled from `texts`, computed without rendering."""
    sizes = {name: len(text.encode("utf-8")) for name, text in texts.items()}
    size = len(template.encode("utf-8"))
    for match in PLACEHOLDER.finditer(template):
        name = match.group(1).strip()
        if name in sizes:
            size += sizes[name] - len(match.group(0).encode("utf-8"))
    return size
