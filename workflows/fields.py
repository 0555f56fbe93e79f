"""The one DRF field through which every endpoint accepts a graph's nodes or edges (workflows, import,
execute), so that they all refuse the same input the same way. The engine then judges what the graph
means; this field only makes sure that it can be stored."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

# Where a value sits inside the field: list positions and dict keys, outermost first.
Path = list[int | str]


def _nul_in(value: Any, path: Path) -> str | None:
    """What in `value` PostgreSQL cannot store (NUL, in a string or a key), leaving `path` at it.

    Recursive: the JSON parser has already refused bodies nested deeper than JSON_MAX_DEPTH, and
    other parsers (forms) cannot nest at all.
    """
    if isinstance(value, str):
        return "must not contain NUL characters." if "\x00" in value else None
    if isinstance(value, dict):
        if any("\x00" in key for key in value):
            return "must not have a key that contains NUL characters."
        parts: Any = value.items()
    elif isinstance(value, list):
        parts = enumerate(value)
    else:
        return None
    for where, part in parts:
        path.append(where)
        if problem := _nul_in(part, path):
            return problem
        path.pop()
    return None


class GraphField(serializers.ListField):
    """The nodes or the edges of a graph: a list of JSON objects whose text PostgreSQL can store.

    A problem is reported where it is (`nodes[0].data.text`), through the API's error paths. Numbers
    out of float range, unpaired surrogates and excessive nesting never get here: the JSON parser
    (core/parsers.py) refuses them for every endpoint.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.DictField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        items = super().to_internal_value(data)
        path: Path = []
        if problem := _nul_in(items, path):
            detail: Any = [problem]
            for where in reversed(path):
                detail = {where: detail}
            raise serializers.ValidationError(detail)
        return items
