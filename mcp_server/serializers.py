"""The body of `PUT /api/workflows/{id}/mcp` and its answer."""

from __future__ import annotations

from rest_framework import serializers

from engine.interface import name_problem
from mcp_server.selectors import TOOL_NAME_MAX_CHARS


class WorkflowToolSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    name = serializers.CharField(
        max_length=TOOL_NAME_MAX_CHARS,
        required=False,
        help_text="An identifier unique among your tools; default: a slug of the workflow's name.",
    )
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Default: the workflow's description."
    )

    def validate_name(self, value: str) -> str:
        if problem := name_problem(value):
            raise serializers.ValidationError(problem)
        return value
