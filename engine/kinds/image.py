"""Image: a reference to an uploaded image (or a URL); bytes are read only by the nodes that use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeKind, NodeOutput, register
from engine.ports import Port
from engine.storage import ImageDigests


@register
class ImageKind(NodeKind):
    type = "image"
    label = "Image"
    description = "An uploaded image, passed on as a reference."
    palette_group = "Inputs"
    palette_order = 40
    icon = "▣"
    image_source = {"upload": "uploadId", "url": "url"}
    summary = {
        "choose": [
            {"when": {"field": "uploadId", "notEmpty": True}, "text": "Uploaded image"},
            {"text": "{url}"},
            {"text": "No image yet"},
        ]
    }
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

    def external_digest(self, data: Mapping[str, Any], digests: ImageDigests | None) -> str | None:
        # Nodes fed by an image hash its bytes: a new upload of the same picture changes nothing
        # downstream, and a URL (whose bytes may change at any time) makes them unknown.
        if digests is None or not data.get("uploadId"):
            return ""
        return digests.digest({"uploadId": data.get("uploadId"), "url": data.get("url")}) or ""

    def run(self, call: NodeCall) -> NodeOutput:
        return NodeOutput({"image": {"uploadId": call.data["uploadId"], "url": call.data["url"]}})
