"""API shapes of starting runs (camelCase keys): the execute, rerun and run-workflow requests, the plan, the
run list's query, and the answers of a run started or waited for."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

import engine
from core.pagination import PageQuerySerializer
from runs.models import ReuseMode, RunScope, RunStatus, RunTrigger
from workflows.fields import GraphField

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


class PlanHandlerSerializer(serializers.Serializer):
    onError = serializers.ChoiceField(choices=["fail", "continue", "branch"])
    maxAttempts = serializers.IntegerField()
    timeoutSeconds = serializers.FloatField(allow_null=True)


class PlannedNodeSerializer(serializers.Serializer):
    nodeId = serializers.CharField()
    nodeType = serializers.CharField()
    fate = serializers.ChoiceField(choices=["run", "reuse", "skip"])
    contentKey = serializers.CharField(allow_null=True)
    source = PlanSourceSerializer(allow_null=True, help_text="For reuse: the result it comes from.")
    handler = PlanHandlerSerializer(
        allow_null=True,
        help_text="What the node's failure does, when its data says (`onError`, `retry`, `timeoutSeconds`).",
    )


def plan_handler(handling: engine.ErrorHandling | None) -> dict[str, Any] | None:
    if handling is None:
        return None
    return {
        "onError": handling.on_error,
        "maxAttempts": handling.max_attempts,
        "timeoutSeconds": handling.timeout_s,
    }


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


class RunCreatedSerializer(serializers.Serializer):
    runId = serializers.UUIDField()


class RunFinishedSerializer(RunCreatedSerializer):
    status = serializers.ChoiceField(choices=RunStatus.choices)
    outputs = serializers.DictField(help_text="Each Output node's name -> its value.")
