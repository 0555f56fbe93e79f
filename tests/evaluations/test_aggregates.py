"""An experiment's aggregates and a comparison, computed by hand for a small case."""

from __future__ import annotations

import pytest

from evaluations.aggregates import experiment_aggregates, experiments_compare, percentile


def item(row, repeat, right, judge, *, cost="0.001", duration=100, tokens=(10, 5), status="scored"):
    return {
        "rowIndex": row,
        "repeat": repeat,
        "status": status,
        "scores": [{"name": "right", "score": right}, {"name": "judge", "score": judge}],
        "passed": right >= 1 and judge >= 0.5,
        "cost": cost,
        "inputTokens": tokens[0],
        "outputTokens": tokens[1],
        "durationMs": duration,
    }


# Row 0 passes both repeats; row 1 passes one of two; row 2 passes none; row 3's second repeat is skipped.
ITEMS = [
    item(0, 0, 1, 0.9, duration=100),
    item(0, 1, 1, 0.7, duration=200),
    item(1, 0, 1, 0.6, duration=300),
    item(1, 1, 0, 0.6, duration=400),
    item(2, 0, 0, 0.2, duration=500, cost=None),
    item(2, 1, 0, 0.4, duration=600),
    item(3, 0, 1, 1.0, duration=700),
    {**item(3, 1, 0, 0, duration=None, cost=None), "status": "skipped", "scores": [], "passed": None},
]


def test_the_aggregates_of_a_small_case_match_the_hand_computed_figures():
    aggregates = experiment_aggregates(ITEMS, evaluator_names=["right", "judge"], repeats=2)

    assert aggregates["scored"] == 7
    assert aggregates["meanScores"]["right"] == pytest.approx(4 / 7)
    assert aggregates["meanScores"]["judge"] == pytest.approx((0.9 + 0.7 + 0.6 + 0.6 + 0.2 + 0.4 + 1.0) / 7)
    assert aggregates["passRate"] == pytest.approx(4 / 7)  # (0,0) (0,1) (1,0) (3,0)
    # pass^k counts the rows whose k repeats were all scored: rows 0, 1, 2; only row 0 passed both.
    assert aggregates["passHatK"] == pytest.approx(1 / 3)
    assert aggregates["totalCost"] == "0.006"
    assert (aggregates["inputTokens"], aggregates["outputTokens"]) == (70, 35)
    assert (aggregates["durationP50Ms"], aggregates["durationP95Ms"]) == (400, 700)


def test_nearest_rank_percentiles():
    assert percentile([], 0.5) is None
    assert percentile([5], 0.95) == 5
    assert percentile([1, 2, 3, 4], 0.5) == 2
    assert percentile(list(range(1, 21)), 0.95) == 19


def test_the_comparison_marks_each_row_and_evaluator_and_the_deltas():
    before = [item(0, 0, 1, 0.5, duration=100), item(1, 0, 0, 0.5, duration=100), item(2, 0, 1, 0.5)]
    after = [item(0, 0, 0, 0.5, duration=300), item(1, 0, 1, 0.9, duration=50), item(2, 0, 1, 0.5)]
    names = ["right", "judge"]
    a = experiment_aggregates(before, evaluator_names=names, repeats=1)
    b = experiment_aggregates(after, evaluator_names=names, repeats=1)

    compared = experiments_compare(before, after, a_aggregates=a, b_aggregates=b, evaluator_names=names)

    assert [row["changes"] for row in compared["rows"]] == [
        {"right": "regressed", "judge": "unchanged"},
        {"right": "improved", "judge": "improved"},
        {"right": "unchanged", "judge": "unchanged"},
    ]
    assert [row["regressed"] for row in compared["rows"]] == [True, False, False]
    assert [row["durationDeltaMs"] for row in compared["rows"]] == [200, -50, 0]
    assert compared["changes"]["right"] == {"improved": 1, "regressed": 1, "unchanged": 1, "missing": 0}
    assert compared["deltas"]["meanScores"]["judge"] == pytest.approx(0.4 / 3)
    assert compared["deltas"]["passRate"] == pytest.approx(0)
    assert compared["deltas"]["totalCost"] == pytest.approx(0)
