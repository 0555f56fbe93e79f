"""The storage interface through which LLM and Vision nodes read uploaded images.

The engine only passes image *references* (the Image node's `{"uploadId", "url"}` dict) between
nodes; bytes are fetched at the last moment through an `ImageReader` that a Django app implements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ImageData:
    """Image bytes ready to send to a model."""

    data: bytes
    mime_type: str

    def __repr__(self) -> str:  # never dump megabytes into logs
        return f"ImageData(mime_type={self.mime_type!r}, {len(self.data)} bytes)"


class ImageReader(Protocol):
    def read(self, ref: Mapping[str, Any]) -> ImageData:
        """Return the bytes behind an Image node's reference, or raise if it cannot be read."""
        ...


class ImageDigests(Protocol):
    def digest(self, ref: Mapping[str, Any]) -> str | None:
        """The SHA-256 (hex) of the stored bytes behind an Image node's reference, or None when they
        cannot be known before reading them (a URL, a missing upload)."""
        ...
