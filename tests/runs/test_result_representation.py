"""A node result written by hand (node_result_data, for live events and run details) is exactly what DRF's
field machinery makes of NodeResultSerializer's declared fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework import serializers

from runs.result_serializers import NodeResultSerializer, node_result_data
from tests.factories import NodeResultFactory


def _by_drf(result) -> dict:
    return dict(serializers.ModelSerializer.to_representation(NodeResultSerializer(), result))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"output": None, "status": "failed", "error_kind": "provider_error", "error_message": "boom"},
        {
            "provider": "gemini",
            "model": "gemini-2.5-flash",
            "attempts": 2,
            "input_tokens": 12,
            "output_tokens": 30,
            "cost": Decimal("0.00012345678"),
            "started_at": dt.datetime(2026, 12, 7, 14, 0, 1, 123456, tzinfo=dt.UTC),
            "duration_ms": 812,
            "content_key": "k" * 64,
        },
        {"inputs": {"prompt": "x" * 50_000}, "output": {"text": "y" * 50_000, "list": list(range(10))}},
    ],
    ids=["text", "failed", "model-call", "truncated"],
)
def test_the_hand_written_result_matches_the_serializer_fields(fields):
    result = NodeResultFactory(**fields)

    assert node_result_data(result) == _by_drf(result)
    assert list(node_result_data(result)) == NodeResultSerializer.Meta.fields


@pytest.mark.django_db
def test_a_reused_result_names_its_original_as_the_serializer_does():
    original = NodeResultFactory(cost=Decimal("0.5"))
    reused = NodeResultFactory(status="reused", reused_from=original, run__owner=original.run.owner)

    data = node_result_data(reused)

    assert data == _by_drf(reused)
    assert data["reusedFrom"] == {"runId": str(original.run_id), "nodeId": original.node_id}
