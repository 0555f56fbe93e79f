"""An experiment's figures from its scored items: mean score per evaluator, pass rate, pass^k, cost, tokens
and duration percentiles; and the comparison of two experiments row by row. Plain functions over dicts."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

# A score within this of another is the same score (a judge's 0.8 against 0.8000001).
SCORE_EPSILON = 1e-9


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least q of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def experiment_aggregates(
    items: Iterable[Mapping[str, Any]], *, evaluator_names: Sequence[str], repeats: int
) -> dict[str, Any]:
    """`items` are `{rowIndex, repeat, status, scores: [{name, score}], passed, cost, inputTokens,
    outputTokens, durationMs}`; only scored ones count.

    pass^k is the share of rows (all of whose k repeats are scored) that passed in every repeat.
    """
    scored = [item for item in items if item["status"] == "scored"]
    by_name: dict[str, list[float]] = defaultdict(list)
    for item in scored:
        for score in item["scores"]:
            by_name[score["name"]].append(score["score"])
    per_row: dict[int, list[bool]] = defaultdict(list)
    for item in scored:
        per_row[item["rowIndex"]].append(bool(item["passed"]))
    complete = [passes for passes in per_row.values() if len(passes) == repeats]
    costs = [Decimal(str(item["cost"])) for item in scored if item["cost"] is not None]
    durations = [item["durationMs"] for item in scored if item["durationMs"] is not None]
    return {
        "scored": len(scored),
        "meanScores": {name: _mean(by_name[name]) for name in evaluator_names},
        "passRate": _mean([1.0 if item["passed"] else 0.0 for item in scored]),
        "passHatK": _mean([1.0 if all(passes) else 0.0 for passes in complete]),
        "totalCost": str(sum(costs, Decimal(0))) if costs else None,
        "inputTokens": sum(item["inputTokens"] for item in scored),
        "outputTokens": sum(item["outputTokens"] for item in scored),
        "durationP50Ms": percentile(durations, 0.5),
        "durationP95Ms": percentile(durations, 0.95),
    }


def _row_means(items: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per row: the mean of each evaluator over its scored repeats, whether all passed, cost and duration."""
    rows: dict[int, dict[str, Any]] = {}
    for item in items:
        if item["status"] != "scored":
            continue
        row = rows.setdefault(
            item["rowIndex"], {"scores": defaultdict(list), "passed": True, "cost": [], "duration": []}
        )
        for score in item["scores"]:
            row["scores"][score["name"]].append(score["score"])
        row["passed"] = row["passed"] and bool(item["passed"])
        if item["cost"] is not None:
            row["cost"].append(float(item["cost"]))
        if item["durationMs"] is not None:
            row["duration"].append(item["durationMs"])
    return {
        index: {
            "scores": {name: _mean(values) for name, values in row["scores"].items()},
            "passed": row["passed"],
            "cost": _mean(row["cost"]),
            "durationMs": _mean(row["duration"]),
        }
        for index, row in rows.items()
    }


def _change(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "missing"
    if b > a + SCORE_EPSILON:
        return "improved"
    if b < a - SCORE_EPSILON:
        return "regressed"
    return "unchanged"


def _delta(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    return float(b) - float(a)


def experiments_compare(
    a_items: Iterable[Mapping[str, Any]],
    b_items: Iterable[Mapping[str, Any]],
    *,
    a_aggregates: Mapping[str, Any],
    b_aggregates: Mapping[str, Any],
    evaluator_names: Sequence[str],
) -> dict[str, Any]:
    """Rows side by side (by row index) with improved / regressed / unchanged per evaluator from a to b, and
    the deltas (b - a) of the aggregates, cost and latency."""
    a_rows, b_rows = _row_means(a_items), _row_means(b_items)
    rows = []
    counts = {name: {"improved": 0, "regressed": 0, "unchanged": 0, "missing": 0} for name in evaluator_names}
    for index in sorted(set(a_rows) | set(b_rows)):
        a, b = a_rows.get(index), b_rows.get(index)
        changes = {}
        for name in evaluator_names:
            change = _change(a and a["scores"].get(name), b and b["scores"].get(name))
            changes[name] = change
            counts[name][change] += 1
        rows.append(
            {
                "rowIndex": index,
                "a": a,
                "b": b,
                "changes": changes,
                "regressed": "regressed" in changes.values(),
                "costDelta": _delta(a and a["cost"], b and b["cost"]),
                "durationDeltaMs": _delta(a and a["durationMs"], b and b["durationMs"]),
            }
        )
    return {
        "rows": rows,
        "changes": counts,
        "deltas": {
            "meanScores": {
                name: _delta(a_aggregates["meanScores"].get(name), b_aggregates["meanScores"].get(name))
                for name in evaluator_names
            },
            **{
                key: _delta(a_aggregates[key], b_aggregates[key])
                for key in ("passRate", "passHatK", "totalCost", "durationP50Ms", "durationP95Ms")
            },
            "tokens": (b_aggregates["inputTokens"] + b_aggregates["outputTokens"])
            - (a_aggregates["inputTokens"] + a_aggregates["outputTokens"]),
        },
    }
