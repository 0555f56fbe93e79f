"""Image: a reference to an uploaded image (or a URL); bytes are read only by the nodes that use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeKind, NodeOutput, register
from engine.ports import Port


@register
class ImageKind(NodeKind):
    type = "image"
    label = "Image"
    description = "An uploaded image, passed on as a reference."
    outputs = (Port("image", "image"),)
    data_schema = {
        "type": "object",
        "properties": {
            "uploadId": {"type": ["string", "null"], "title": "Upload", "default": None},
            "url": {"type": ["string", "null"], "title": "URL", "default": None},
        },
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        given = [key for key in ("uploadId", "url") if data.get(key)]
        if not given:
            return [("uploadId", "choose an uploaded image or give a URL")]
        if len(given) == 2:
            return [("url", "give either uploadId or url, not both")]
        return []

    def run(self, call: NodeCall) -> NodeOutput:
        return NodeOutput({"image": {"uploadId": call.data["uploadId"], "url": call.data["url"]}})
