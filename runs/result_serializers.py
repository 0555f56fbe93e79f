"""API shapes of what runs did (camelCase keys): run summaries and details, node results (cut to
RUN_DETAIL_MAX_OUTPUT_CHARS), logs, child runs and their pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Context, Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.pagination import PageSerializer
from engine.graph import display_names
from engine.results import json_size
from runs.approval_serializers import RunApprovalSerializer
from runs.models import ExecutionLog, NodeResult, WorkflowRun
from runs.outputs import outputs_by_name

MONEY = {"max_digits": 14, "decimal_places": 6, "coerce_to_string": False, "allow_null": True}
# What DRF's DecimalField does with MONEY, for representations built by hand.
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY["decimal_places"])
_MONEY_CONTEXT = Context(prec=MONEY["max_digits"])


class RunSummarySerializer(serializers.ModelSerializer):
    workflowId = serializers.UUIDField(source="workflow_id", allow_null=True)
    workflowName = serializers.SerializerMethodField()
    workflowVersion = serializers.IntegerField(source="workflow_version", allow_null=True)
    totalNodes = serializers.IntegerField(source="total_nodes")
    succeededNodes = serializers.IntegerField(source="succeeded_nodes")
    failedNodes = serializers.IntegerField(source="failed_nodes")
    skippedNodes = serializers.IntegerField(source="skipped_nodes")
    reusedNodes = serializers.IntegerField(source="reused_nodes")
    inputTokens = serializers.IntegerField(source="input_tokens")
    outputTokens = serializers.IntegerField(source="output_tokens")
    cost = serializers.DecimalField(**MONEY, help_text="USD; null when no call had a known price.")
    resumedFrom = serializers.UUIDField(source="resumed_from_id", allow_null=True)
    parentRunId = serializers.UUIDField(
        source="parent_run_id", allow_null=True, help_text="For a child run: the run that started it."
    )
    parentNodeId = serializers.CharField(
        source="parent_node_id", help_text="For a child run: the Sub-workflow or Map node that started it."
    )
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)
    errorSummary = serializers.CharField(source="error_summary")
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)
    triggerRef = serializers.CharField(source="trigger_ref")

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "workflowId",
            "workflowName",
            "workflowVersion",
            "status",
            "scope",
            "trigger",
            "triggerRef",
            "reuse",
            "resumedFrom",
            "parentRunId",
            "parentNodeId",
            "totalNodes",
            "succeededNodes",
            "failedNodes",
            "skippedNodes",
            "reusedNodes",
            "inputTokens",
            "outputTokens",
            "cost",
            "durationMs",
            "errorSummary",
            "createdAt",
            "startedAt",
            "completedAt",
        ]

    def get_workflowName(self, run: WorkflowRun) -> str | None:
        return run.workflow.name if run.workflow_id and run.workflow else None


def truncated_json(value: Any, max_chars: int) -> tuple[Any, bool]:
    """`value` cut to about `max_chars` characters of content, keeping its shape; and whether it was cut.

    Strings count their characters, other scalars and keys their printed length; once the budget is
    spent the current string is cut and the remaining items of lists and objects are left out.
    """
    budget = max_chars
    cut = False

    def shown(item: Any) -> Any:
        nonlocal budget, cut
        if isinstance(item, str):
            if len(item) > budget:
                cut = True
                item = item[: max(budget, 0)]
            budget -= len(item)
            return item
        if isinstance(item, dict):
            kept: dict[str, Any] = {}
            for key, inner in item.items():
                if budget <= 0:
                    cut = True
                    break
                budget -= len(key)
                kept[key] = shown(inner)
            return kept
        if isinstance(item, list):
            kept_items: list[Any] = []
            for inner in item:
                if budget <= 0:
                    cut = True
                    break
                kept_items.append(shown(inner))
            return kept_items
        budget -= len(str(item))
        return item

    return shown(value), cut


def _iso_datetime(value: datetime | None) -> str | None:
    """As DRF writes a DateTimeField: ISO 8601 in the current time zone, UTC as `Z`."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def node_result_data(result: NodeResult) -> dict[str, Any]:
    """One result as NodeResultSerializer declares it, built without DRF's per-field machinery: a live
    run builds one per finished node for its event stream, and a run detail one per node."""
    max_chars = settings.RUN_DETAIL_MAX_OUTPUT_CHARS
    inputs, inputs_truncated = truncated_json(result.inputs, max_chars)
    output, output_truncated = truncated_json(result.output, max_chars)
    original = result.reused_from
    return {
        "nodeId": result.node_id,
        "nodeType": result.node_type,
        "status": result.status,
        "inputs": inputs,
        "inputsTruncated": inputs_truncated,
        "output": output,
        "outputTruncated": output_truncated,
        "outputBytes": None if result.output is None else json_size(result.output),
        "errorKind": result.error_kind,
        "errorMessage": result.error_message,
        "provider": result.provider,
        "model": result.model,
        "attempts": result.attempts,
        "handled": result.handled,
        "nodeAttempts": result.node_attempts,
        "attemptErrors": result.attempt_errors,
        "inputTokens": result.input_tokens,
        "outputTokens": result.output_tokens,
        "cost": None if result.cost is None else result.cost.quantize(_MONEY_QUANTUM, context=_MONEY_CONTEXT),
        "contentKey": result.content_key,
        "reusedFrom": None
        if original is None
        else {"runId": str(original.run_id), "nodeId": original.node_id},
        "startedAt": _iso_datetime(result.started_at),
        "durationMs": result.duration_ms,
    }


class NodeResultSerializer(serializers.ModelSerializer):
    """One node's result. Its inputs and output are cut to RUN_DETAIL_MAX_OUTPUT_CHARS characters each
    (`inputsTruncated` / `outputTruncated` say so; `outputBytes` is the whole output's stored size); the
    whole output is served by GET /api/runs/{id}/nodes/{nodeId}/output.

    The fields describe the result for the schema; `node_result_data` writes it."""

    nodeId = serializers.CharField(source="node_id")
    inputs = serializers.SerializerMethodField()
    inputsTruncated = serializers.SerializerMethodField()
    output = serializers.SerializerMethodField()
    outputTruncated = serializers.SerializerMethodField()
    outputBytes = serializers.SerializerMethodField()
    nodeType = serializers.CharField(source="node_type")
    errorKind = serializers.CharField(source="error_kind")
    errorMessage = serializers.CharField(source="error_message")
    handled = serializers.BooleanField(help_text="A failure the node's onError handled: the run went on.")
    nodeAttempts = serializers.IntegerField(
        source="node_attempts", help_text="Node-level attempts that ran (its retry); 0 if it never started."
    )
    attemptErrors = serializers.ListField(
        source="attempt_errors",
        child=serializers.DictField(),
        allow_null=True,
        help_text="Each failed attempt's {attempt, kind, message}.",
    )
    inputTokens = serializers.IntegerField(source="input_tokens", allow_null=True)
    outputTokens = serializers.IntegerField(source="output_tokens", allow_null=True)
    cost = serializers.DecimalField(**MONEY)
    contentKey = serializers.CharField(source="content_key")
    reusedFrom = serializers.SerializerMethodField(help_text="For a reused node: the original result.")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    durationMs = serializers.IntegerField(source="duration_ms", allow_null=True)

    class Meta:
        model = NodeResult
        fields = [
            "nodeId",
            "nodeType",
            "status",
            "inputs",
            "inputsTruncated",
            "output",
            "outputTruncated",
            "outputBytes",
            "errorKind",
            "errorMessage",
            "provider",
            "model",
            "attempts",
            "handled",
            "nodeAttempts",
            "attemptErrors",
            "inputTokens",
            "outputTokens",
            "cost",
            "contentKey",
            "reusedFrom",
            "startedAt",
            "durationMs",
        ]

    @extend_schema_field(OpenApiTypes.ANY)
    def get_inputs(self, result: NodeResult) -> Any:
        return truncated_json(result.inputs, settings.RUN_DETAIL_MAX_OUTPUT_CHARS)[0]

    def get_inputsTruncated(self, result: NodeResult) -> bool:
        return truncated_json(result.inputs, settings.RUN_DETAIL_MAX_OUTPUT_CHARS)[1]

    @extend_schema_field(OpenApiTypes.ANY)
    def get_output(self, result: NodeResult) -> Any:
        return truncated_json(result.output, settings.RUN_DETAIL_MAX_OUTPUT_CHARS)[0]

    def get_outputTruncated(self, result: NodeResult) -> bool:
        return truncated_json(result.output, settings.RUN_DETAIL_MAX_OUTPUT_CHARS)[1]

    def get_outputBytes(self, result: NodeResult) -> int | None:
        return None if result.output is None else json_size(result.output)

    def get_reusedFrom(self, result: NodeResult) -> dict[str, Any] | None:
        original = result.reused_from
        if original is None:
            return None
        return {"runId": str(original.run_id), "nodeId": original.node_id}

    def to_representation(self, instance: NodeResult) -> dict[str, Any]:
        return node_result_data(instance)


class LogSerializer(serializers.ModelSerializer):
    nodeId = serializers.CharField(source="node_id", allow_null=True)

    class Meta:
        model = ExecutionLog
        fields = ["nodeId", "level", "message", "timestamp"]


class ChildRunSerializer(serializers.ModelSerializer):
    nodeId = serializers.CharField(source="parent_node_id")
    item = serializers.IntegerField(
        source="parent_item", allow_null=True, help_text="For a Map node's child: the index of its item."
    )
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = WorkflowRun
        fields = ["id", "nodeId", "item", "status", "createdAt"]


class RunDetailSerializer(RunSummarySerializer):
    nodeIds = serializers.JSONField(source="node_ids")
    inputs = serializers.DictField(help_text="The values given for the Input nodes, by name.")
    traceId = serializers.SerializerMethodField(
        help_text="The OpenTelemetry trace the run belongs to (32 hex digits; docs/operations.md, Traces); "
        "null when tracing was off."
    )
    nodeLabels = serializers.SerializerMethodField(
        help_text="Each node's name as the editor shows it (its label, else its kind and number), by id."
    )

    class Meta(RunSummarySerializer.Meta):
        fields = [
            *RunSummarySerializer.Meta.fields,
            "nodes",
            "edges",
            "nodeIds",
            "inputs",
            "traceId",
            "nodeLabels",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_traceId(self, run: WorkflowRun) -> str | None:
        return run.trace_id or None

    def get_nodeLabels(self, run: WorkflowRun) -> dict[str, str]:
        return display_names(run.nodes)


class RunDetailOutputSerializer(RunDetailSerializer):
    """The run, its node results and its first logs (run_detail loads them), as the detail caches it."""

    nodeResults = NodeResultSerializer(many=True, source="loaded_node_results")
    logs = LogSerializer(many=True, source="loaded_logs")
    childRuns = ChildRunSerializer(
        many=True,
        source="loaded_child_runs",
        help_text="The runs this run's Sub-workflow and Map nodes started, oldest first.",
    )
    approvals = RunApprovalSerializer(
        many=True,
        source="loaded_approvals",
        help_text="The approvals this run's Approval nodes asked for (waiting or decided), oldest first.",
    )
    outputs = serializers.SerializerMethodField(
        help_text="Each Output node's name -> the value it received (null while or when it did not run), "
        "each cut to RUN_DETAIL_MAX_OUTPUT_CHARS like node outputs (`outputsTruncated` names the cut ones; "
        "the whole value is the Output node's output at GET /api/runs/{id}/nodes/{nodeId}/output)."
    )
    outputsTruncated = serializers.SerializerMethodField()

    class Meta(RunDetailSerializer.Meta):
        fields = [
            *RunDetailSerializer.Meta.fields,
            "outputs",
            "outputsTruncated",
            "nodeResults",
            "logs",
            "childRuns",
            "approvals",
        ]

    def _cut_outputs(self, run: WorkflowRun) -> dict[str, tuple[Any, bool]]:
        whole = outputs_by_name(run=run, results=run.loaded_node_results)
        return {
            name: truncated_json(value, settings.RUN_DETAIL_MAX_OUTPUT_CHARS) for name, value in whole.items()
        }

    @extend_schema_field(serializers.DictField())
    def get_outputs(self, run: WorkflowRun) -> dict[str, Any]:
        return {name: value for name, (value, _) in self._cut_outputs(run).items()}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_outputsTruncated(self, run: WorkflowRun) -> list[str]:
        return [name for name, (_, cut) in self._cut_outputs(run).items() if cut]


class RunDetailResponseSerializer(RunDetailOutputSerializer):
    """The detail as the API answers it (documentation): the cached payload and the link to more logs,
    which the view adds per request because it carries the host the client used."""

    logsNext = serializers.URLField(
        allow_null=True, help_text="The logs endpoint's page that follows `logs`; null when there is none."
    )

    class Meta(RunDetailOutputSerializer.Meta):
        fields = [*RunDetailOutputSerializer.Meta.fields, "logsNext"]


class RunPageSerializer(PageSerializer):
    results = RunSummarySerializer(many=True)


class LogPageSerializer(PageSerializer):
    results = LogSerializer(many=True)
