"""Image verification: decode with Pillow, refuse anything odd, re-encode without metadata.

The bytes a user sends are never stored or forwarded as they are: they are decoded (which proves they
are an image of an allowed format, whatever the file name or client content type says) and encoded
again in the same format, which drops EXIF (GPS positions, camera serials), comments and any payload
appended after the image data. Animated GIF and WebP keep their first frame only: models read one
frame anyway, and a single frame bounds the decoding work.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import DomainError

# Pillow format name -> (content type, file extension).
ALLOWED_FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
ALLOWED_CONTENT_TYPES = tuple(content_type for content_type, _ in ALLOWED_FORMATS.values())
ALLOWED_FORMATS_IN_WORDS = "PNG, JPEG, WebP or GIF"
# Colour information worth keeping; everything else in `info` (exif, comments, text chunks, xmp) goes.
_KEPT_INFO = ("transparency", "icc_profile", "duration", "background")


class ImageRejected(DomainError):
    """The bytes are not an acceptable image; the message says why, for the person who sent them (an upload's
    `file`)."""

    code = "invalid_image"

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message, errors=[{"path": "file", "message": message}])
        self.too_large = too_large
        if too_large:
            self.http_status = 413


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int

    def __repr__(self) -> str:  # never dump megabytes into logs
        return f"CleanImage({self.content_type}, {self.width}x{self.height}, {len(self.data)} bytes)"


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} bytes"


def check_size(size: int, *, max_bytes: int) -> None:
    if size > max_bytes:
        raise ImageRejected(
            f"The image is {describe_size(size)}; the limit is {describe_size(max_bytes)}.", too_large=True
        )


def clean_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CleanImage:
    """Verify `data` as a PNG, JPEG, WebP or GIF image and return it re-encoded without metadata."""
    if not data:
        raise ImageRejected("The file is empty.")
    check_size(len(data), max_bytes=max_bytes)
    try:
        with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as probe:
            image_format = probe.format or ""
            _check_pixels(probe.size, max_pixels=max_pixels)
            probe.verify()
        # verify() leaves the image unusable; decode it again, fully this time.
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            image.seek(0)
            image.load()
            return _reencode(image, image_format)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"The image has too many pixels (the limit is {max_pixels:,}).") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(f"The file is not a {ALLOWED_FORMATS_IN_WORDS} image.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Pillow reports truncated and corrupt data with any of these, depending on the format.
        raise ImageRejected("The image is damaged or truncated and cannot be decoded.") from exc


def _check_pixels(size: tuple[int, int], *, max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageRejected("The image has no pixels.")
    if width * height > max_pixels:
        # Checked from the header, before any pixel is decoded: a tiny file can claim a giant canvas.
        raise ImageRejected(f"The image is {width}x{height} pixels; the limit is {max_pixels:,} pixels.")


def _reencode(image: Image.Image, image_format: str) -> CleanImage:
    kept = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    # Apply the EXIF orientation before the EXIF goes, so that the picture still looks the same.
    frame = ImageOps.exif_transpose(image) or image
    frame.info = kept
    options: dict[str, object] = {}
    if image_format == "JPEG":
        if frame.mode not in ("RGB", "L", "CMYK"):
            frame = frame.convert("RGB")
        options = {"quality": 90, "optimize": True}
    elif image_format == "WEBP":
        options = {"quality": 90}
        if "icc_profile" in kept:
            options["icc_profile"] = kept["icc_profile"]
    elif image_format == "PNG":
        options = {"optimize": False}
    elif image_format == "GIF" and "transparency" in kept:
        options["transparency"] = kept["transparency"]
    out = io.BytesIO()
    frame.save(out, format=image_format, **options)
    content_type, extension = ALLOWED_FORMATS[image_format]
    return CleanImage(
        data=out.getvalue(),
        content_type=content_type,
        extension=extension,
        width=frame.width,
        height=frame.height,
    )
