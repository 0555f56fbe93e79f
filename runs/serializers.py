"""API shapes of runs (camelCase keys): the execute request and plan, run summaries, details, logs, usage."""

from __future__ import annotations

from datetime import datetime
from decimal import Context, Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.pagination import PageQuerySerializer, PageSerializer
from engine.results import json_size
from runs.models import ExecutionLog, NodeResult, ReuseMode, RunScope, RunStatus, RunTrigger, WorkflowRun
from runs.outputs import outputs_by_name
from workflows.fields import GraphField

_MONEY = {"max_digits": 14, "decimal_places": 6, "coerce_to_string": False, "allow_null": True}
# What DRF's DecimalField does with _MONEY, for representations built by hand.
_MONEY_QUANTUM = Decimal(1).scaleb(-_MONEY["decimal_places"])
_MONEY_CONTEXT = Context(prec=_MONEY["max_digits"])
MAX_WAIT_SECONDS = 60

_INPUTS_HELP = (
    "Values for the workflow's Input nodes by name: a string for a text input; for an image input an "
    "upload id, an http(s) URL, or {uploadId} / {url}. Unknown names, missing required inputs and wrong "
    "types are a 400 with `inputs.<name>` paths."
)


def _inputs_field() -> serializers.DictField:
    # The values themselves are checked by runs.inputs (types, sizes, what the database can store).
    return serializers.DictField(required=False, default=dict, help_text=_INPUTS_HELP)


class ExecuteInputSerializer(serializers.Serializer):
    workflowId = serializers.UUIDField(required=False)
    nodes = GraphField(required=False, help_text="An unsaved graph's nodes, run instead of a saved workflow.")
    edges = GraphField(required=False, help_text="An unsaved graph's edges.")
    scope = serializers.ChoiceField(choices=RunScope.choices, default=RunScope.FULL)
    nodeIds = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=10_000
    )
    reuse = serializers.ChoiceField(
        choices=ReuseMode.choices,
        default=ReuseMode.AUTO,
        help_text="Which earlier results with a matching content key stand in for running a node: "
        "auto (pure nodes, LLM/Vision at temperature 0 or pinned), none, or all.",
    )
    inputs = _inputs_field()

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


class RerunInputSerializer(serializers.Serializer):
    reuse = serializers.ChoiceField(choices=ReuseMode.choices, default=ReuseMode.AUTO)


class PlanSourceSerializer(serializers.Serializer):
    runId = serializers.CharField()
    resultId = serializers.IntegerField()


class PlannedNodeSerializer(serializers.Serializer):
    nodeId = serializers.CharField()
    nodeType = serializers.CharField()
    fate = serializers.ChoiceField(choices=["run", "reuse", "skip"])
    contentKey = serializers.CharField(allow_null=True)
    source = PlanSourceSerializer(allow_null=True, help_text="For reuse: the result it comes from.")


class PlanOutputSerializer(serializers.Serializer):
    nodes = PlannedNodeSerializer(many=True)
    llmCalls = serializers.IntegerField(
        help_text="How many LLM/Vision calls the run would make (those of Sub-workflow nodes' callees too)."
    )
    llmCallsPerItem = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="For each Map node that would run: the LLM/Vision calls of each item (the number of items "
        "is known only when it runs).",
    )


class RunWorkflowInputSerializer(serializers.Serializer):
    inputs = _inputs_field()
    reuse = serializers.ChoiceField(
        choices=ReuseMode.choices,
        default=ReuseMode.AUTO,
        help_text="Which earlier results with a matching content key stand in for running a node "
        "(as on /api/execute).",
    )
    wait = serializers.FloatField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        help_text=f"Seconds (at most {MAX_WAIT_SECONDS}) to wait for the run to end: if it does, the answer "
        "is 200 with its status and outputs; otherwise 202 as without `wait`.",
    )


class RunListQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    workflow = serializers.UUIDField(required=False)
    trigger = serializers.ChoiceField(choices=RunTrigger.choices, required=False)
    triggerRef = serializers.CharField(
        required=False, max_length=64, help_text="The id of the webhook, schedule or rerun source run."
    )


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
    cost = serializers.DecimalField(**_MONEY, help_text="USD; null when no call had a known price.")
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
    inputTokens = serializers.IntegerField(source="input_tokens", allow_null=True)
    outputTokens = serializers.IntegerField(source="output_tokens", allow_null=True)
    cost = serializers.DecimalField(**_MONEY)
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

    class Meta(RunSummarySerializer.Meta):
        fields = [*RunSummarySerializer.Meta.fields, "nodes", "edges", "nodeIds", "inputs"]


class RunDetailOutputSerializer(RunDetailSerializer):
    """The run, its node results and its first logs (run_detail loads them), as the detail caches it."""

    nodeResults = NodeResultSerializer(many=True, source="loaded_node_results")
    logs = LogSerializer(many=True, source="loaded_logs")
    childRuns = ChildRunSerializer(
        many=True,
        source="loaded_child_runs",
        help_text="The runs this run's Sub-workflow and Map nodes started, oldest first.",
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


class RunCreatedSerializer(serializers.Serializer):
    runId = serializers.UUIDField()


class RunFinishedSerializer(RunCreatedSerializer):
    status = serializers.ChoiceField(choices=RunStatus.choices)
    outputs = serializers.DictField(help_text="Each Output node's name -> its value.")


class RunPageSerializer(PageSerializer):
    results = RunSummarySerializer(many=True)


class LogPageSerializer(PageSerializer):
    results = LogSerializer(many=True)


class UsageQuerySerializer(serializers.Serializer):
    to = serializers.DateField(required=False, help_text="Last day included (UTC); default today.")
    groupBy = serializers.ChoiceField(choices=["day", "model", "workflow"], default="day")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields["from"] = serializers.DateField(
            required=False, help_text="First day included (UTC); default 29 days before `to`."
        )
        return fields


class UsageRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The day (YYYY-MM-DD), provider/model, or workflow id.")
    label = serializers.CharField()
    calls = serializers.IntegerField()
    inputTokens = serializers.IntegerField()
    outputTokens = serializers.IntegerField()
    cost = serializers.DecimalField(**_MONEY)
    unpricedCalls = serializers.IntegerField(help_text="Calls to models with no price (cost null).")


class UsageOutputSerializer(serializers.Serializer):
    groupBy = serializers.CharField()
    results = UsageRowSerializer(many=True)
    total = UsageRowSerializer()

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["from"], data["to"] = instance["from"].isoformat(), instance["to"].isoformat()
        return data
