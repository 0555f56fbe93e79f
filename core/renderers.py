"""The API's JSON renderer: DRF's output, written by orjson (about ten times faster than `json`)."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Dates and times go through DRF's encoder, which writes UTC as "Z" where orjson would write "+00:00".
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_drf_default = JSONEncoder().default


class OrjsonRenderer(JSONRenderer):
    """Byte for byte what DRF's compact JSONRenderer writes, for the payloads the API returns.

    Pretty-printing (`Accept: application/json; indent=4`, the browsable API) and what orjson cannot
    write (integers beyond 64 bits) go to DRF's own renderer.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_drf_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does: JSON that is also a strict JavaScript subset.
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
            body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return body
