"""JSON input checks: what the API's parser and graph field cost on bodies up to the 1 MiB body limit.

    .venv/bin/python -m bench.json_input

For each body: the nesting check alone (StrictJSONParser's scan before parsing), the whole parser
(scan, surrogate search and json.loads), DRF's plain JSONParser for comparison, and GraphField on the
parsed nodes. Refused bodies show the time until the 400's ParseError. Best of 5; no database needed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Callable
from typing import Any

MiB = 1024 * 1024
REPEATS = 5


def _node(i: int, text: str) -> dict[str, Any]:
    return {"id": f"n{i}", "type": "text", "position": {"x": i, "y": 0}, "data": {"text": text}}


def bodies() -> dict[str, str]:
    """Bodies of about 1 MiB (the body limit) shaped to be cheap or expensive for the checks."""
    return {
        "graph: 500 nodes of 2 KiB text": json.dumps(
            {"name": "x", "nodes": [_node(i, "lorem ipsum " * 170) for i in range(500)], "edges": []}
        ),
        "graph: 8,000 small nodes": json.dumps(
            {"name": "x", "nodes": [_node(i, "hi") for i in range(8_000)], "edges": []}
        ),
        'graph: text full of [ { \\ and \\"': json.dumps(
            {"name": "x", "nodes": [_node(0, '[{\\"' * (MiB // 8))], "edges": []}
        ),
        "graph: 1 MiB of numbers in data": json.dumps(
            {"name": "x", "nodes": [{**_node(0, ""), "data": {"v": [1.5] * (MiB // 5)}}], "edges": []}
        ),
        "1 MiB of [] (350k arrays)": "[" + ",".join(["[]"] * (MiB // 3)) + "]",
        "1 MiB of 63-deep arrays": '{"nodes": [' + ",".join(["[" * 62 + "]" * 62] * (MiB // 126)) + "]}",
        "refused: 100,000 levels": "[" * 100_000 + "]" * 100_000,
        "refused: 5,000 levels at the end of 1 MiB": json.dumps(
            {"pad": "x" * (MiB - 20_000), "deep": "D"}
        ).replace('"D"', "[" * 5_000 + "]" * 5_000),
        "refused: 1e999 at the end of 1 MiB": json.dumps({"pad": "x" * (MiB - 100), "x": "N"}).replace(
            '"N"', "1e999"
        ),
    }


def best_ms(action: Callable[[], Any], *, refusals: tuple[type[BaseException], ...] = ()) -> float:
    """Best of REPEATS; for a refused body, the time until the refusal."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        with contextlib.suppress(*refusals):
            action()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def row(name: str, raw: bytes, limit: int) -> str:
    from rest_framework.exceptions import ParseError
    from rest_framework.parsers import JSONParser

    from core.parsers import StrictJSONParser, _deepest_nesting, _without_escapes
    from workflows.fields import GraphField

    scan = best_ms(lambda: _deepest_nesting(_without_escapes(raw), limit))
    strict = best_ms(lambda: StrictJSONParser().parse(io.BytesIO(raw)), refusals=(ParseError,))
    try:
        data = JSONParser().parse(io.BytesIO(raw))
        drf = f"{best_ms(lambda: JSONParser().parse(io.BytesIO(raw))):.1f}"
    except RecursionError:
        data, drf = None, "RecursionError (500)"
    nodes = data.get("nodes") if isinstance(data, dict) else None
    field = "-"
    if isinstance(nodes, list) and all(isinstance(item, dict) for item in nodes):
        field = f"{best_ms(lambda: GraphField().run_validation(nodes)):.1f}"
    return f"| {name} | {len(raw) / MiB:.2f} MiB | {scan:.1f} | {strict:.1f} | {drf} | {field} |"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.test_settings")
    import django

    django.setup()
    from django.conf import settings

    print(f"JSON_MAX_DEPTH={settings.JSON_MAX_DEPTH}, best of {REPEATS}, milliseconds\n")
    print("| body | size | nesting check | StrictJSONParser | DRF JSONParser | GraphField(nodes) |")
    print("|---|---|---|---|---|---|")
    for name, text in bodies().items():
        print(row(name, text.encode(), settings.JSON_MAX_DEPTH))


if __name__ == "__main__":
    main()
