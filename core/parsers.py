"""The JSON parser of every API endpoint. Before it builds anything it refuses, with a 400, what would
otherwise end as a 500 further on: nesting beyond JSON_MAX_DEPTH (the parser's own recursion), numbers
beyond float range (PostgreSQL's jsonb has no Infinity) and unpaired surrogates (not encodable as UTF-8)."""

from __future__ import annotations

import array
import itertools
import json
import math
import re
from typing import IO, Any, NoReturn

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Structure only: brackets become ( and ), quotes stay to mark strings, everything else goes.
_AS_PARENTHESES = bytes.maketrans(b"[{]}", b"(())")
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))
_AS_STEPS = bytes.maketrans(b"()", b"\x01\xff")  # +1 and -1 as signed bytes
# Small enough that a body nested far too deep is refused after a few thousand brackets.
_DEPTH_CHUNK = 4096
# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or the second without the first. One
# literal start (\u), so that the search skips through text at memchr speed.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD])[c-fC-F][0-9a-fA-F]{2})"
)
_NOT_FINITE = "numbers must be finite (NaN, Infinity and values beyond about 1.8e308 are refused)."


def _refuse(problem: str) -> NoReturn:
    raise ParseError(f"JSON parse error - {problem}")


def _without_escapes(body: bytes) -> bytes:
    """The body with escaped backslashes and escaped quotes blanked out (same length).

    In JSON a backslash outside a string is an error, and inside one each backslash starts an escape
    pair read left to right, as bytes.replace reads; after this every backslash starts a non-backslash
    escape and every quote opens or closes a string. Blanks rather than removal, so that no new
    escape pair can form across what was removed.
    """
    if b"\\" not in body:  # one memchr, far cheaper than two replaces that find nothing
        return body
    return body.replace(b"\\\\", b"__").replace(b'\\"', b"__")


def _deepest_nesting(plain: bytes, limit: int) -> int:
    """How deep the brackets outside strings nest, counting only until `limit` is passed.

    Runs at C speed (replace, translate, accumulate), never recursing, so a 1 MiB body is checked in
    milliseconds. A malformed body may be misjudged, but only after the place where the parser stops
    reading it, so the parser never nests deeper than this says.
    """
    structure = plain.translate(_AS_PARENTHESES, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:  # strings holding brackets, which are text
        structure = b"".join(structure.split(b'"')[::2])
    # Each innermost pair removed lowers the deepest point by exactly one level.
    inner = structure.replace(b"()", b"")
    if not inner:
        return 1 if structure else 0
    steps = array.array("b", inner.translate(_AS_STEPS))
    depth = deepest = 0
    for start in range(0, len(steps), _DEPTH_CHUNK):
        chunk = steps[start : start + _DEPTH_CHUNK]
        deepest = max(deepest, max(itertools.accumulate(chunk, initial=depth)))
        if deepest > limit:
            break
        depth += sum(chunk)
    return deepest + 1


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        _refuse(_NOT_FINITE)
    return value


def _no_constant(name: str) -> NoReturn:
    _refuse(_NOT_FINITE)


_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant)


class StrictJSONParser(parsers.JSONParser):
    """DRF's JSON parser with the checks above; the API's default parser (REST_FRAMEWORK settings)."""

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: dict[str, Any] | None = None
    ) -> Any:
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except ValueError as exc:  # not text in that encoding
            raise ParseError(f"JSON parse error - {exc}") from exc
        plain = _without_escapes(text.encode("utf-8"))
        limit = settings.JSON_MAX_DEPTH
        if _deepest_nesting(plain, limit) > limit:
            _refuse(f"nested deeper than {limit} levels.")
        if _LONE_SURROGATE.search(plain):
            _refuse("a string holds an unpaired surrogate escape, which is no Unicode character.")
        try:
            return _DECODER.decode(text)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
