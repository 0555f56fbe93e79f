"""StrictJSONParser: its nesting scan agrees with the parsed value on any JSON, and it parses what it
accepts exactly as json.loads does. The endpoints' answers are in tests/security/test_json_input.py."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from core.parsers import StrictJSONParser, _deepest_nesting, _without_escapes

# Text rich in what the scan must tell apart from structure: brackets, quotes, backslashes, escapes.
_TRICKY_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\/ux0d8\n\t é😀'), max_size=12)
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TRICKY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TRICKY_TEXT, children, max_size=4),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(value=_JSON_VALUES, ascii_only=st.booleans())
def test_the_nesting_scan_counts_what_the_parser_builds(value, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode()

    assert _deepest_nesting(_without_escapes(body), limit=1_000) == _depth(value)


@settings(max_examples=200, deadline=None)
@given(value=_JSON_VALUES)
def test_what_the_parser_accepts_it_parses_as_json_loads_does(value):
    body = json.dumps(value)

    assert StrictJSONParser().parse(io.BytesIO(body.encode())) == json.loads(body)


def test_the_scan_stops_soon_after_passing_the_limit():
    # Counted no further than the first chunk past the limit: the answer is a lower bound.
    deep = b"[" * 100_000 + b"]" * 100_000

    assert 64 < _deepest_nesting(deep, limit=64) < 100_000


@pytest.mark.parametrize("body", ['"\\ud800\\\\\\udc00"', '"\\ud800\\"\\udc00"', '["\\udc00", "\\ud800"]'])
def test_surrogates_split_by_another_escape_are_each_unpaired(body):
    # json.loads reads each of these as lone surrogates; blanking the escapes between must not pair them.
    assert any(0xD800 <= ord(char) <= 0xDFFF for char in "".join(json.loads(body)))

    with pytest.raises(ParseError, match="unpaired surrogate"):
        StrictJSONParser().parse(io.BytesIO(body.encode()))
