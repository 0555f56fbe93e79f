"""Path converters for free-text URL parts: Django's `str` and `path` without NUL.

PostgreSQL cannot hold a NUL character in text, so a `%00` that reached a query as a lookup value would be
a DataError (a 500). Refused by the route instead, it is the 404 an unknown name gets.
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import PathConverter, StringConverter


class TextConverter(StringConverter):
    """`<text:name>`: one path segment, as `<str:name>`, without NUL."""

    regex = r"[^/\x00]+"


class TextPathConverter(PathConverter):
    """`<textpath:name>`: the rest of the path, slashes included, as `<path:name>`, without NUL."""

    regex = r"[^\x00]+"


register_converter(TextConverter, "text")
register_converter(TextPathConverter, "textpath")
