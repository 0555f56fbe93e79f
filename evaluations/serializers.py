"""API shapes of datasets and experiments (camelCase, as the rest of the API)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engine.evaluators import EVALUATOR_TYPES
from evaluations.models import Dataset, DatasetRow, Experiment, ExperimentItem
from evaluations.services import MAX_CONCURRENCY, MAX_REPEATS
from runs.models import ReuseMode


class DatasetWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class DatasetSerializer(serializers.ModelSerializer):
    rowCount = serializers.IntegerField(source="row_count", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "rowCount", "createdAt", "updatedAt"]


class DatasetRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = DatasetRow
        fields = ["index", "inputs", "expected"]


class DatasetRowsWriteSerializer(serializers.Serializer):
    """JSON rows; a multipart `file` (CSV or JSONL) is read by the view instead."""

    rows = serializers.JSONField(help_text='[{"inputs": {...}, "expected": {...}}]')


class EvaluatorSerializer(serializers.Serializer):
    """Documentation of one evaluator; the specs are checked by engine.evaluators.evaluator_issues."""

    name = serializers.CharField()
    type = serializers.ChoiceField(choices=EVALUATOR_TYPES)
    output = serializers.CharField(help_text="A workflow output's name.")
    expected = serializers.CharField(
        required=False, help_text="A field of the row's expected (default: output)."
    )
    threshold = serializers.FloatField(required=False, help_text="The score a row needs to pass (default 1).")
    options = serializers.DictField(required=False)


@extend_schema_field(
    {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["published", "draft"]}]}
)
class VersionField(serializers.Field):
    """A version number, "published" or "draft"."""

    def to_internal_value(self, data: object) -> int | str:
        if data in ("published", "draft"):
            return str(data)
        if isinstance(data, int) and not isinstance(data, bool) and data >= 1:
            return data
        raise serializers.ValidationError('a version number, "published" or "draft"')

    def to_representation(self, value: object) -> object:
        return value


class ExperimentWriteSerializer(serializers.Serializer):
    workflowId = serializers.UUIDField()
    version = VersionField(default="draft")
    datasetId = serializers.UUIDField()
    evaluators = serializers.ListField(child=serializers.JSONField(), help_text="See EvaluatorSerializer.")
    repeats = serializers.IntegerField(min_value=1, max_value=MAX_REPEATS, default=1)
    concurrency = serializers.IntegerField(min_value=1, max_value=MAX_CONCURRENCY, default=4)
    reuse = serializers.ChoiceField(choices=ReuseMode.choices, default=ReuseMode.AUTO)


class ExperimentSerializer(serializers.ModelSerializer):
    workflowId = serializers.UUIDField(source="workflow_id", read_only=True)
    workflowVersion = serializers.IntegerField(source="workflow_version", read_only=True, allow_null=True)
    version = serializers.CharField(source="version_label", read_only=True)
    datasetId = serializers.UUIDField(source="dataset_id", read_only=True)
    datasetName = serializers.CharField(source="dataset.name", read_only=True)
    stopReason = serializers.CharField(source="stop_reason", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    completedAt = serializers.DateTimeField(source="completed_at", read_only=True, allow_null=True)
    done = serializers.IntegerField(source="done_count", read_only=True)
    total = serializers.IntegerField(source="item_count", read_only=True)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "workflowId",
            "workflowVersion",
            "version",
            "datasetId",
            "datasetName",
            "evaluators",
            "repeats",
            "concurrency",
            "reuse",
            "status",
            "stopReason",
            "done",
            "total",
            "summary",
            "createdAt",
            "completedAt",
        ]


class ExperimentItemSerializer(serializers.ModelSerializer):
    rowIndex = serializers.IntegerField(source="row_index")
    inputs = serializers.JSONField(source="row.inputs")
    expected = serializers.JSONField(source="row.expected")
    runId = serializers.UUIDField(source="run_id", allow_null=True)
    runStatus = serializers.CharField(source="run_status")
    cost = serializers.DecimalField(max_digits=14, decimal_places=6, allow_null=True, coerce_to_string=True)
    inputTokens = serializers.IntegerField(source="input_tokens")
    outputTokens = serializers.IntegerField(source="output_tokens")
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)

    class Meta:
        model = ExperimentItem
        fields = [
            "rowIndex",
            "repeat",
            "status",
            "inputs",
            "expected",
            "outputs",
            "scores",
            "passed",
            "cost",
            "inputTokens",
            "outputTokens",
            "durationMs",
            "runId",
            "runStatus",
            "error",
        ]
