"""Files for upload tests: small real images in any format Pillow writes, and what a storage folder holds."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 16), **save: Any) -> bytes:
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    out = io.BytesIO()
    colour = (200, 30, 60) if mode == "RGB" else (200, 30, 60, 255)
    Image.new(mode, size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]
