"""JSONPath (RFC 9535, through python-jsonpath's strict mode) for Extract and Condition."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jsonpath
from jsonpath import JSONPath, JSONPathError

_ENVIRONMENT = jsonpath.JSONPathEnvironment(strict=True)
# match() and search() would run regular expressions with no time limit (Condition's `matches` has one).
del _ENVIRONMENT.function_extensions["match"]
del _ENVIRONMENT.function_extensions["search"]


class PathInvalid(ValueError):
    """A path that does not parse; the message is its first line, fit for a validation issue."""


@lru_cache(maxsize=256)
def compile_path(path: str) -> JSONPath:
    try:
        compiled = _ENVIRONMENT.compile(path)
    except JSONPathError as exc:
        raise PathInvalid(f"is not a JSONPath ({str(exc).splitlines()[0]}), e.g. $.items[0].name") from exc
    assert isinstance(compiled, JSONPath)  # strict mode has no `|` unions
    return compiled


def path_problem(path: Any) -> str | None:
    """Why `path` is not a usable JSONPath, or None."""
    if not isinstance(path, str) or not path.strip():
        return "must be a JSONPath such as $.items[0].name"
    try:
        compile_path(path.strip())
    except PathInvalid as exc:
        return str(exc)
    return None


def find(path: str, value: Any) -> list[Any]:
    """Every value `path` selects in `value`, in document order.

    A string is a JSON string here, never a document to parse: like every scalar it has no
    members, so only the root path `$` selects it.
    """
    compiled = compile_path(path.strip())
    if not isinstance(value, Mapping | list):
        return [value] if not compiled.segments else []
    return compiled.findall(value)


def is_singular(path: str) -> bool:
    """Whether `path` selects at most one value (RFC 9535's singular query: names and indexes only)."""
    return bool(compile_path(path.strip()).singular_query())
