"""API shapes for workflows: camelCase JSON in and out. Input serializers check shape only; the engine
validates the graph itself."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workflows.fields import GraphField
from workflows.models import Workflow, WorkflowVersion
from workflowsite.pagination import PageQuerySerializer, PageSerializer

EXPORT_FORMAT_VERSION = 1
# Versions are 32-bit in the database; larger numbers can name no version.
MAX_VERSION_NUMBER = 2**31 - 1
_NAME_MAX = Workflow._meta.get_field("name").max_length
_DESCRIPTION_MAX = Workflow._meta.get_field("description").max_length


# --- input -------------------------------------------------------------------------------------------


class WorkflowListQuerySerializer(PageQuerySerializer):
    search = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=200, help_text="Matches name or description."
    )


class WorkflowWriteSerializer(serializers.Serializer):
    """What a client may set; anything else it sends (owner, version, timestamps) is ignored."""

    name = serializers.CharField(max_length=_NAME_MAX)
    description = serializers.CharField(
        max_length=_DESCRIPTION_MAX, required=False, default="", allow_blank=True
    )
    nodes = GraphField(help_text="React Flow nodes: {id, type, position: {x, y}, data}.")
    edges = GraphField(help_text="React Flow edges: {id, source, sourceHandle, target, targetHandle}.")


class WorkflowUpdateSerializer(WorkflowWriteSerializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_VERSION_NUMBER,
        help_text="The version the client edited; a stale one is refused with 409.",
    )


class WorkflowImportSerializer(serializers.Serializer):
    """A Weft export file, or a plain React Flow `{nodes, edges}` object; extra keys are ignored."""

    weft = serializers.IntegerField(
        required=False, help_text=f"The export format version; only {EXPORT_FORMAT_VERSION} is known."
    )
    name = serializers.CharField(max_length=_NAME_MAX, required=False, default="Imported workflow")
    description = serializers.CharField(
        max_length=_DESCRIPTION_MAX, required=False, default="", allow_blank=True
    )
    nodes = GraphField(help_text="React Flow nodes.")
    edges = GraphField(help_text="React Flow edges.")

    def validate_weft(self, value: int) -> int:
        if value != EXPORT_FORMAT_VERSION:
            raise serializers.ValidationError(f"Unsupported export format {value}; this Weft reads format 1.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Checked, then dropped: what remains is what a new workflow is made of.
        attrs.pop("weft", None)
        return attrs


# --- output ------------------------------------------------------------------------------------------


class _WorkflowSummaryFields(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    isPublished = serializers.BooleanField(source="is_published", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    runCount = serializers.IntegerField(source="run_count", read_only=True)
    lastRunStatus = serializers.CharField(
        source="last_run_status",
        allow_null=True,
        read_only=True,
        help_text="The status of the latest run (queued, running, succeeded, failed or cancelled); "
        "null before the first run.",
    )


class WorkflowListItemSerializer(_WorkflowSummaryFields):
    """A workflow in a list: no graph, but its node count and run summary."""

    nodeCount = serializers.IntegerField(source="node_count", read_only=True)


class WorkflowSerializer(_WorkflowSummaryFields):
    """A workflow with its graph and run summary."""

    nodes = serializers.ListField(child=serializers.DictField(), read_only=True)
    edges = serializers.ListField(child=serializers.DictField(), read_only=True)


class WorkflowPageSerializer(PageSerializer):
    results = WorkflowListItemSerializer(many=True)


class WorkflowVersionSummarySerializer(serializers.ModelSerializer):
    savedBy = serializers.EmailField(source="saved_by.email", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "name", "savedBy", "createdAt"]
        read_only_fields = fields


class WorkflowVersionSerializer(WorkflowVersionSummarySerializer):
    nodes = serializers.ListField(child=serializers.DictField(), read_only=True)
    edges = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta(WorkflowVersionSummarySerializer.Meta):
        fields = ["number", "name", "description", "nodes", "edges", "savedBy", "createdAt"]
        read_only_fields = fields


class WorkflowExportSerializer(serializers.Serializer):
    weft = serializers.IntegerField(default=EXPORT_FORMAT_VERSION)
    name = serializers.CharField()
    description = serializers.CharField()
    nodes = serializers.ListField(child=serializers.DictField())
    edges = serializers.ListField(child=serializers.DictField())


# --- node kinds and errors (documentation of the shapes the API returns) ------------------------------


class PortSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField(required=False)
    multiple = serializers.BooleanField(required=False)


class NodeKindSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    inputs = PortSerializer(many=True)
    outputs = PortSerializer(many=True)
    dataSchema = serializers.DictField(help_text="JSON Schema of the node's `data`.")
    dynamicInputs = serializers.BooleanField(
        required=False, help_text="Present and true when inputs depend on `data` (Prompt placeholders)."
    )


class DetailErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class VersionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    currentVersion = serializers.IntegerField()
