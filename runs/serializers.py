"""API shapes of runs (camelCase keys): the execute request, run summaries, details and logs."""

from __future__ import annotations

from rest_framework import serializers

from runs.models import ExecutionLog, NodeResult, RunScope, RunStatus, WorkflowRun


class ExecuteInputSerializer(serializers.Serializer):
    workflowId = serializers.UUIDField(required=False)
    nodes = serializers.ListField(child=serializers.JSONField(), required=False)
    edges = serializers.ListField(child=serializers.JSONField(), required=False)
    scope = serializers.ChoiceField(choices=RunScope.choices, default=RunScope.FULL)
    nodeIds = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=10_000
    )

    def validate(self, attrs: dict) -> dict:
        has_graph = "nodes" in attrs or "edges" in attrs
        if "workflowId" not in attrs and not has_graph:
            raise serializers.ValidationError(
                {"workflowId": "Give a workflowId or a graph (nodes and edges)."}
            )
        if has_graph:
            attrs.setdefault("nodes", [])
            attrs.setdefault("edges", [])
        return attrs


class RunListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    workflow = serializers.UUIDField(required=False)


class RunSummarySerializer(serializers.ModelSerializer):
    workflowId = serializers.UUIDField(source="workflow_id", allow_null=True)
    workflowName = serializers.SerializerMethodField()
    workflowVersion = serializers.IntegerField(source="workflow_version", allow_null=True)
    totalNodes = serializers.IntegerField(source="total_nodes")
    succeededNodes = serializers.IntegerField(source="succeeded_nodes")
    failedNodes = serializers.IntegerField(source="failed_nodes")
    skippedNodes = serializers.IntegerField(source="skipped_nodes")
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)
    errorSummary = serializers.CharField(source="error_summary")
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "workflowId",
            "workflowName",
            "workflowVersion",
            "status",
            "scope",
            "totalNodes",
            "succeededNodes",
            "failedNodes",
            "skippedNodes",
            "durationMs",
            "errorSummary",
            "createdAt",
            "startedAt",
            "completedAt",
        ]

    def get_workflowName(self, run: WorkflowRun) -> str | None:
        return run.workflow.name if run.workflow_id and run.workflow else None


class NodeResultSerializer(serializers.ModelSerializer):
    nodeId = serializers.CharField(source="node_id")
    nodeType = serializers.CharField(source="node_type")
    errorKind = serializers.CharField(source="error_kind")
    errorMessage = serializers.CharField(source="error_message")
    inputTokens = serializers.IntegerField(source="input_tokens", allow_null=True)
    outputTokens = serializers.IntegerField(source="output_tokens", allow_null=True)
    contentKey = serializers.CharField(source="content_key")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)

    class Meta:
        model = NodeResult
        fields = [
            "nodeId",
            "nodeType",
            "status",
            "inputs",
            "output",
            "errorKind",
            "errorMessage",
            "provider",
            "model",
            "attempts",
            "inputTokens",
            "outputTokens",
            "contentKey",
            "startedAt",
            "durationMs",
        ]


class LogSerializer(serializers.ModelSerializer):
    nodeId = serializers.CharField(source="node_id", allow_null=True)

    class Meta:
        model = ExecutionLog
        fields = ["nodeId", "level", "message", "timestamp"]


class RunDetailSerializer(RunSummarySerializer):
    nodeIds = serializers.JSONField(source="node_ids")

    class Meta(RunSummarySerializer.Meta):
        fields = [*RunSummarySerializer.Meta.fields, "nodes", "edges", "nodeIds"]


class RunDetailOutputSerializer(RunDetailSerializer):
    """The detail response: the run, its node results and its first page of logs (run_detail loads them)."""

    nodeResults = NodeResultSerializer(many=True, source="loaded_node_results")
    logs = LogSerializer(many=True, source="loaded_logs")
    logsNext = serializers.SerializerMethodField()

    class Meta(RunDetailSerializer.Meta):
        fields = [*RunDetailSerializer.Meta.fields, "nodeResults", "logs", "logsNext"]

    def get_logsNext(self, run: WorkflowRun) -> str | None:
        # An absolute URL carries the client's host, so the view sets it; the cached payload has none.
        return None


class RunCreatedSerializer(serializers.Serializer):
    runId = serializers.UUIDField()


class RunPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunSummarySerializer(many=True)


class LogPageSerializer(RunPageSerializer):
    results = LogSerializer(many=True)
