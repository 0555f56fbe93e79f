"""API shapes for workflows: camelCase JSON in and out. Input serializers check shape only; the engine
validates the graph itself."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.pagination import PageQuerySerializer, PageSerializer
from engine import INPUT_TYPES, graph_interface
from engine.annotations import NOTE_COLORS
from workflows.fields import GraphField
from workflows.gallery import TEMPLATES
from workflows.models import Workflow, WorkflowVersion

EXPORT_FORMAT_VERSION = 1
# Versions are 32-bit in the database; larger numbers can name no version.
MAX_VERSION_NUMBER = 2**31 - 1
# Saving an edit of version N writes N + 1, which must be a version number too.
MAX_EDITED_VERSION = MAX_VERSION_NUMBER - 1
_NAME_MAX = Workflow._meta.get_field("name").max_length
_DESCRIPTION_MAX = Workflow._meta.get_field("description").max_length
_NOTES_HELP = (
    "Sticky notes on the canvas, never run: {id, position: {x, y}, width, height, text, color}; "
    f"color one of {', '.join(NOTE_COLORS)}."
)
_GROUPS_HELP = (
    "Titled frames around nodes, never run: {id, title, nodes: [node ids], color}; a node in one at most."
)


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
    notes = GraphField(required=False, default=list, help_text=_NOTES_HELP)
    groups = GraphField(required=False, default=list, help_text=_GROUPS_HELP)


class WorkflowUpdateSerializer(WorkflowWriteSerializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_EDITED_VERSION,
        help_text="The version the client edited; a stale one is refused with 409.",
    )
    note = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="A message about this save, shown in the versions list.",
    )
    # Left out, a save keeps the workflow's notes and groups (a client that knows only nodes and edges loses
    # nothing); groups then drop the nodes the save removed.
    notes = GraphField(required=False, help_text=f"{_NOTES_HELP} Left out: kept as they are.")
    groups = GraphField(required=False, help_text=f"{_GROUPS_HELP} Left out: kept as they are.")


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
    notes = GraphField(required=False, default=list, help_text=_NOTES_HELP)
    groups = GraphField(required=False, default=list, help_text=_GROUPS_HELP)

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
    publishedVersion = serializers.IntegerField(
        source="published_version",
        read_only=True,
        allow_null=True,
        help_text="The version API, webhook and schedule runs execute; null when unpublished.",
    )
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


class InterfaceInputSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The key in `inputs` when running the workflow.")
    type = serializers.ChoiceField(
        choices=INPUT_TYPES, help_text="text: a string; image: an upload id or URL."
    )
    required = serializers.BooleanField()
    default = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_blank=True)


class InterfaceOutputSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The key in a finished run's `outputs`.")
    type = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class PublishedInterfaceSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    inputs = InterfaceInputSerializer(many=True)
    outputs = InterfaceOutputSerializer(many=True)


class PublishInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION_NUMBER,
        help_text="The saved version to publish; the current one when left out.",
    )


_INTERFACE_HELP = (
    "The workflow's interface, derived from its Input and Output nodes (of this version of the graph): "
    'run it with `POST /api/workflows/{id}/runs {"inputs": {name: value}}`; a finished run\'s '
    "`outputs` map each Output node's name to the value it received."
)


class WorkflowSerializer(_WorkflowSummaryFields):
    """A workflow with its graph, its interface (inputs and outputs) and run summary."""

    nodes = serializers.ListField(child=serializers.DictField(), read_only=True)
    edges = serializers.ListField(child=serializers.DictField(), read_only=True)
    notes = serializers.ListField(child=serializers.DictField(), read_only=True)
    groups = serializers.ListField(child=serializers.DictField(), read_only=True)
    inputs = serializers.SerializerMethodField(help_text=_INTERFACE_HELP)
    outputs = serializers.SerializerMethodField(help_text=_INTERFACE_HELP)

    published = serializers.SerializerMethodField(
        help_text="The published version's number and interface (what `POST /api/workflows/{id}/runs` "
        "accepts and returns); null when unpublished."
    )

    @extend_schema_field(PublishedInterfaceSerializer(allow_null=True))
    def get_published(self, workflow: Workflow) -> dict[str, Any] | None:
        if workflow.published_version is None:
            return None
        version = WorkflowVersion.objects.only("nodes", "edges").get(
            workflow=workflow, number=workflow.published_version
        )
        return {"version": version.number, **graph_interface(version.graph).as_dict()}

    @extend_schema_field(InterfaceInputSerializer(many=True))
    def get_inputs(self, workflow: Workflow) -> list[dict[str, Any]]:
        return [spec.as_dict() for spec in graph_interface(workflow.graph).inputs]

    @extend_schema_field(InterfaceOutputSerializer(many=True))
    def get_outputs(self, workflow: Workflow) -> list[dict[str, Any]]:
        return [spec.as_dict() for spec in graph_interface(workflow.graph).outputs]


class WorkflowPageSerializer(PageSerializer):
    results = WorkflowListItemSerializer(many=True)


class WorkflowVersionSummarySerializer(serializers.ModelSerializer):
    savedBy = serializers.EmailField(source="saved_by.email", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "name", "note", "savedBy", "createdAt"]
        read_only_fields = fields


class WorkflowVersionSerializer(WorkflowVersionSummarySerializer):
    nodes = serializers.ListField(child=serializers.DictField(), read_only=True)
    edges = serializers.ListField(child=serializers.DictField(), read_only=True)
    notes = serializers.ListField(child=serializers.DictField(), read_only=True)
    groups = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta(WorkflowVersionSummarySerializer.Meta):
        fields = [
            "number",
            "name",
            "description",
            "note",
            "nodes",
            "edges",
            "notes",
            "groups",
            "savedBy",
            "createdAt",
        ]
        read_only_fields = fields


class WorkflowExportSerializer(serializers.Serializer):
    weft = serializers.IntegerField(default=EXPORT_FORMAT_VERSION)
    name = serializers.CharField()
    description = serializers.CharField()
    nodes = serializers.ListField(child=serializers.DictField())
    edges = serializers.ListField(child=serializers.DictField())
    notes = serializers.ListField(child=serializers.DictField())
    groups = serializers.ListField(child=serializers.DictField())


# --- node kinds and errors (documentation of the shapes the API returns) ------------------------------


class PortSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField(required=False)
    multiple = serializers.BooleanField(required=False)
    when = serializers.DictField(required=False, help_text="The port exists only when this condition holds.")
    typeFrom = serializers.DictField(required=False, help_text="The port's type is a data field's value.")


class NodeKindSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    inputs = PortSerializer(many=True)
    outputs = PortSerializer(many=True)
    dataSchema = serializers.DictField(help_text="JSON Schema of the node's `data`.")
    palette = serializers.DictField(help_text="`group` (its heading) and `order` (place in the palette).")
    icon = serializers.CharField()
    summary = serializers.DictField(
        required=False,
        help_text="The rule the editor builds a node's one-line summary from (engine/kinds/base.py).",
    )
    inputsFrom = serializers.DictField(
        required=False,
        help_text="Input ports that follow `data` (engine/kinds/rules.py): placeholders, a callee.",
    )
    outputsFrom = serializers.DictField(required=False, help_text="Output ports that follow `data`.")
    interfaceRole = serializers.CharField(
        required=False, help_text="`input` or `output`: the node is part of the workflow's interface."
    )
    imageSource = serializers.DictField(required=False, help_text="The data fields holding the kind's image.")
    toolSource = serializers.DictField(
        required=False,
        help_text="The data fields naming an MCP tool: `connection`, `tool`, `arguments`, `reusable`.",
    )
    dynamicInputs = serializers.BooleanField(
        required=False, help_text="Present and true when inputs depend on `data` (Prompt placeholders)."
    )
    dynamicOutputs = serializers.BooleanField(
        required=False, help_text="Present and true when outputs depend on `data` (an LLM's `json`)."
    )


class PortTypesSerializer(serializers.Serializer):
    wildcard = serializers.CharField(help_text="The type that connects to and from every type.")
    conversions = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="[source, target] pairs of different types that connect, converted on the way.",
    )


class DetailErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class VersionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    currentVersion = serializers.IntegerField()


class WorkflowTemplateSerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="Send it to POST /api/workflows/from-template to get a copy.")
    name = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    nodeKinds = serializers.ListField(child=serializers.CharField(), help_text="The kinds of node it uses.")
    createsHelper = serializers.CharField(
        allow_null=True,
        help_text="The name of the helper workflow copied with it (it calls that one), or null.",
    )


class WorkflowFromTemplateSerializer(serializers.Serializer):
    template = serializers.ChoiceField(
        choices=[template.slug for template in TEMPLATES],
        help_text="A slug from GET /api/workflow-templates.",
    )
