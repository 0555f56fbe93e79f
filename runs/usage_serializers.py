"""API shapes of the usage report (camelCase keys): its query and its rows."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from runs.costs import USAGE_DEFAULT_DAYS
from runs.result_serializers import MONEY


class UsageQuerySerializer(serializers.Serializer):
    to = serializers.DateField(required=False, help_text="Last day included (UTC); default today.")
    groupBy = serializers.ChoiceField(choices=["day", "model", "workflow"], default="day")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields["from"] = serializers.DateField(
            required=False,
            help_text=f"First day included (UTC); default {USAGE_DEFAULT_DAYS - 1} days before `to`.",
        )
        return fields


class UsageRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The day (YYYY-MM-DD), provider/model, or workflow id.")
    label = serializers.CharField()
    calls = serializers.IntegerField()
    inputTokens = serializers.IntegerField()
    outputTokens = serializers.IntegerField()
    cost = serializers.DecimalField(**MONEY)
    unpricedCalls = serializers.IntegerField(help_text="Calls to models with no price (cost null).")


class UsageOutputSerializer(serializers.Serializer):
    groupBy = serializers.CharField()
    results = UsageRowSerializer(many=True)
    total = UsageRowSerializer()

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["from"], data["to"] = instance["from"].isoformat(), instance["to"].isoformat()
        return data
