"""Image verification: only real PNG/JPEG/WebP/GIF images pass, and they come out without metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.files import image_bytes
from uploads.images import ImageRejected, clean_image

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000}


def spy_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0131] = "secret-firmware"  # Software
    return exif.tobytes()


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_each_allowed_format_is_accepted_in_its_own_format(fmt, content_type):
    clean = clean_image(image_bytes(fmt, (40, 30)), **LIMITS)

    assert (clean.content_type, clean.width, clean.height) == (content_type, 40, 30)
    with Image.open(io.BytesIO(clean.data)) as reopened:
        assert reopened.format == fmt
        assert reopened.size == (40, 30)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_exif_is_stripped(fmt):
    original = image_bytes(fmt, exif=spy_exif())
    with Image.open(io.BytesIO(original)) as before:
        assert dict(before.getexif())  # the input really carries EXIF

    clean = clean_image(original, **LIMITS)

    with Image.open(io.BytesIO(clean.data)) as after:
        assert dict(after.getexif()) == {}
    assert b"SpyCam" not in clean.data


def test_exif_orientation_is_applied_before_it_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    clean = clean_image(image_bytes("JPEG", (40, 20), exif=exif.tobytes()), **LIMITS)

    assert (clean.width, clean.height) == (20, 40)


def test_bytes_appended_after_the_image_are_not_kept():
    payload = b"<script>alert(1)</script>"
    clean = clean_image(image_bytes("PNG") + payload, **LIMITS)

    assert payload not in clean.data


def test_an_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (8, 8), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    clean = clean_image(out.getvalue(), **LIMITS)

    with Image.open(io.BytesIO(clean.data)) as gif:
        assert getattr(gif, "n_frames", 1) == 1
        assert gif.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def _truncated_png() -> bytes:
    noisy = Image.effect_noise((300, 300), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def _truncated_jpeg() -> bytes:
    noisy = Image.effect_noise((300, 300), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="JPEG")
    data = out.getvalue()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"hello, I am a text file named cat.png\n", "not a PNG, JPEG, WebP or GIF"),
        (_truncated_png(), "damaged or truncated"),
        (_truncated_jpeg(), "damaged or truncated"),
        (image_bytes("BMP"), "not a PNG, JPEG, WebP or GIF"),
        (image_bytes("TIFF"), "not a PNG, JPEG, WebP or GIF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG, JPEG, WebP or GIF"),
    ],
    ids=["empty", "text", "truncated-png", "truncated-jpeg", "bmp", "tiff", "svg"],
)
def test_bad_images_are_refused_with_a_clear_message(data, message):
    with pytest.raises(ImageRejected, match=message):
        clean_image(data, **LIMITS)


def test_a_decompression_bomb_is_refused_from_its_header():
    # 1-bit 20000x20000 canvas: about 50 kB compressed, 400 million pixels decoded.
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    assert len(out.getvalue()) < 100_000

    with pytest.raises(ImageRejected, match="too many pixels"):
        clean_image(out.getvalue(), **LIMITS)


def test_an_image_over_the_configured_pixel_limit_is_refused():
    with pytest.raises(ImageRejected, match="the limit is 1,000 pixels"):
        clean_image(image_bytes("PNG", (40, 30)), max_bytes=LIMITS["max_bytes"], max_pixels=1_000)


def test_an_image_over_the_byte_limit_is_refused_as_too_large():
    with pytest.raises(ImageRejected, match="limit is 100 bytes") as caught:
        clean_image(image_bytes("PNG", (64, 64)), max_bytes=100, max_pixels=LIMITS["max_pixels"])
    assert caught.value.too_large
