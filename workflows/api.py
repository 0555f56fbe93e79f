"""REST API for workflows, their versions, import/export and the node-kind catalog (thin views)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from core.api import FirstRendererNegotiation, bad_request
from core.cached_views import OwnerCachedGetMixin
from core.pagination import PAGE_ERRORS, Page
from core.parsers import StrictJSONParser
from engine import node_kind_catalog, port_type_rules
from workflows import selectors, services
from workflows.cache import workflow_detail_cache_parts
from workflows.serializers import (
    EXPORT_FORMAT_VERSION,
    MAX_VERSION_NUMBER,
    DetailErrorSerializer,
    NodeKindSerializer,
    PortTypesSerializer,
    PublishInputSerializer,
    VersionConflictSerializer,
    WorkflowExportSerializer,
    WorkflowFromTemplateSerializer,
    WorkflowImportSerializer,
    WorkflowListQuerySerializer,
    WorkflowPageSerializer,
    WorkflowSerializer,
    WorkflowTemplateSerializer,
    WorkflowUpdateSerializer,
    WorkflowVersionSerializer,
    WorkflowVersionSummarySerializer,
    WorkflowWriteSerializer,
)

_BAD_INPUT = bad_request(
    "Invalid input: a field (`name`, `nodes[0]`) or a graph the engine refuses (`nodes[3].data.temperature`)."
)
_NOT_FOUND = {404: OpenApiResponse(DetailErrorSerializer, description="No such workflow of yours.")}
_TOO_LARGE = {413: OpenApiResponse(DetailErrorSerializer, description="The request body is over 1 MiB.")}
_CONFLICT = {
    409: OpenApiResponse(
        VersionConflictSerializer, description="The workflow changed since that version; reload and reapply."
    )
}


class _JsonApi(APIView):
    # Graphs are nested JSON that forms cannot express, so bodies are JSON only.
    parser_classes = [StrictJSONParser]


def _workflow_response(
    request: Request, workflow_id: UUID, status_code: int = status.HTTP_200_OK
) -> Response:
    return Response(
        selectors.workflow_detail(owner=request.user, workflow_id=workflow_id), status=status_code
    )


def _workflow_create_operation(
    serializer_class: type[Serializer], *, summary: str, operation_id: str
) -> Callable[[APIView, Request], Response]:
    """A POST that creates a workflow from a body `serializer_class` reads as workflow_create's arguments
    (a new workflow, or an imported file)."""

    @extend_schema(
        request=serializer_class,
        responses={201: WorkflowSerializer, 400: _BAD_INPUT, **_TOO_LARGE},
        summary=summary,
        operation_id=operation_id,
    )
    def post(view: APIView, request: Request) -> Response:
        payload = serializer_class(data=request.data)
        payload.is_valid(raise_exception=True)
        workflow = services.workflow_create(owner=request.user, **payload.validated_data)
        return _workflow_response(request, workflow.pk, status.HTTP_201_CREATED)

    return post


class WorkflowListCreateApi(_JsonApi):
    @extend_schema(
        parameters=[WorkflowListQuerySerializer],
        responses={200: WorkflowPageSerializer, **PAGE_ERRORS},
        summary="List your workflows, newest first",
        operation_id="workflows_list",
    )
    def get(self, request: Request) -> Response:
        page, filters = Page.from_request(request, WorkflowListQuerySerializer)
        payload = selectors.workflow_list_page(owner=request.user, page=page, search=filters["search"])
        return page.response(request, **payload)

    post = _workflow_create_operation(
        WorkflowWriteSerializer, summary="Create a workflow", operation_id="workflows_create"
    )


class WorkflowDetailApi(OwnerCachedGetMixin, _JsonApi):
    def owner_cache_entry_parts(self, *, workflow_id: UUID) -> tuple[object, ...]:
        return workflow_detail_cache_parts(workflow_id=workflow_id)

    @extend_schema(
        responses={200: WorkflowSerializer, **_NOT_FOUND},
        summary="Get a workflow",
        operation_id="workflows_retrieve",
    )
    def get(self, request: Request, workflow_id: UUID) -> Response:
        return _workflow_response(request, workflow_id)

    @extend_schema(
        request=WorkflowUpdateSerializer,
        responses={
            200: WorkflowSerializer,
            400: _BAD_INPUT,
            **_NOT_FOUND,
            **_CONFLICT,
            **_TOO_LARGE,
        },
        summary="Replace a workflow (saves a new version)",
        operation_id="workflows_update",
        description="Send the `version` you edited. If someone saved since, the answer is 409 with "
        "`currentVersion` and nothing is changed.",
    )
    def put(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        payload = WorkflowUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        expected_version = fields.pop("version")
        services.workflow_update(
            workflow=workflow, expected_version=expected_version, saved_by=request.user, **fields
        )
        return _workflow_response(request, workflow.pk)

    @extend_schema(
        responses={204: None, **_NOT_FOUND},
        summary="Delete a workflow (its runs remain)",
        operation_id="workflows_destroy",
    )
    def delete(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        services.workflow_delete(workflow=workflow)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkflowVersionListApi(_JsonApi):
    @extend_schema(
        responses={200: WorkflowVersionSummarySerializer(many=True), **_NOT_FOUND},
        summary="List a workflow's saved versions, newest first",
        operation_id="workflows_versions_list",
    )
    def get(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        versions = selectors.workflow_version_list(workflow=workflow)
        return Response(WorkflowVersionSummarySerializer(versions, many=True).data)


def _version_for(request: Request, workflow_id: UUID, number: int) -> tuple[Any, Any]:
    workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
    return workflow, selectors.workflow_version_get(workflow=workflow, number=number)


class WorkflowVersionDetailApi(_JsonApi):
    @extend_schema(
        responses={200: WorkflowVersionSerializer, **_NOT_FOUND},
        summary="Get one saved version",
        operation_id="workflows_versions_retrieve",
    )
    def get(self, request: Request, workflow_id: UUID, number: int) -> Response:
        _, version = _version_for(request, workflow_id, number)
        return Response(WorkflowVersionSerializer(version).data)


class VersionDiffQuerySerializer(Serializer):
    # `from` is a Python keyword: declared through the class namespace.
    locals()["from"] = serializers.IntegerField(
        min_value=1, max_value=MAX_VERSION_NUMBER, help_text="The older version's number."
    )
    to = serializers.IntegerField(
        min_value=1, max_value=MAX_VERSION_NUMBER, help_text="The newer version's number."
    )


class WorkflowVersionDiffApi(_JsonApi):
    @extend_schema(
        parameters=[VersionDiffQuerySerializer],
        responses={200: OpenApiResponse(description="The diff."), 400: _BAD_INPUT, **_NOT_FOUND},
        summary="What changed between two saved versions: nodes added, removed and changed (each changed"
        " field with its old and new value), edges added and removed, interface changes",
    )
    def get(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        query = VersionDiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            selectors.workflow_versions_diff(
                workflow=workflow, old=query.validated_data["from"], new=query.validated_data["to"]
            )
        )


class WorkflowVersionRestoreApi(_JsonApi):
    @extend_schema(
        request=None,
        responses={200: WorkflowSerializer, 400: _BAD_INPUT, **_NOT_FOUND},
        summary="Restore a version (saves it as a new version)",
        operation_id="workflows_versions_restore",
    )
    def post(self, request: Request, workflow_id: UUID, number: int) -> Response:
        workflow, version = _version_for(request, workflow_id, number)
        services.workflow_restore_version(workflow=workflow, version=version, saved_by=request.user)
        return _workflow_response(request, workflow.pk)


class WorkflowPublishApi(_JsonApi):
    @extend_schema(
        request=PublishInputSerializer,
        responses={200: WorkflowSerializer, 400: _BAD_INPUT, **_NOT_FOUND},
        summary="Publish a version: API, webhook and schedule runs execute it until you publish another",
        operation_id="workflows_publish",
        description="The version (default: the current one) must be ready to run; if not, the answer is "
        "400 with the graph's problems. Editing the workflow afterwards does not change what is published.",
    )
    def post(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        payload = PublishInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.workflow_publish(workflow=workflow, version=payload.validated_data.get("version"))
        return _workflow_response(request, workflow.pk)

    @extend_schema(
        request=None,
        responses={200: WorkflowSerializer, **_NOT_FOUND},
        summary="Unpublish: API, webhook and schedule runs answer 409 until you publish again",
        operation_id="workflows_unpublish",
    )
    def delete(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        services.workflow_unpublish(workflow=workflow)
        return _workflow_response(request, workflow.pk)


class WorkflowDuplicateApi(_JsonApi):
    @extend_schema(
        request=None,
        responses={201: WorkflowSerializer, 400: _BAD_INPUT, **_NOT_FOUND},
        summary="Duplicate a workflow",
        operation_id="workflows_duplicate",
    )
    def post(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        copy = services.workflow_duplicate(workflow=workflow)
        return _workflow_response(request, copy.pk, status.HTTP_201_CREATED)


class WorkflowExportApi(_JsonApi):
    # A download link: always the JSON file, also when a browser asks for HTML.
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        responses={200: WorkflowExportSerializer, **_NOT_FOUND},
        summary="Download a workflow as a JSON file (import it with POST /api/workflows/import)",
        operation_id="workflows_export",
    )
    def get(self, request: Request, workflow_id: UUID) -> Response:
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        export = {
            "weft": EXPORT_FORMAT_VERSION,
            "name": workflow.name,
            "description": workflow.description,
            "nodes": workflow.nodes,
            "edges": workflow.edges,
            "notes": workflow.notes,
            "groups": workflow.groups,
        }
        response = Response(WorkflowExportSerializer(export).data)
        filename = f"{slugify(workflow.name) or 'workflow'}.weft.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class WorkflowImportApi(_JsonApi):
    post = _workflow_create_operation(
        WorkflowImportSerializer,
        summary="Import a workflow from an export file or a React Flow {nodes, edges} file",
        operation_id="workflows_import",
    )


class WorkflowTemplateListApi(_JsonApi):
    @extend_schema(
        responses={200: WorkflowTemplateSerializer(many=True)},
        summary="The template gallery: workflows to start from",
        operation_id="workflow_templates_list",
    )
    def get(self, request: Request) -> Response:
        return Response(WorkflowTemplateSerializer(selectors.workflow_template_list(), many=True).data)


class WorkflowFromTemplateApi(_JsonApi):
    @extend_schema(
        request=WorkflowFromTemplateSerializer,
        responses={201: WorkflowSerializer, 400: _BAD_INPUT},
        summary="Create your copy of a gallery template (and of the helper workflow it calls, if any)",
        operation_id="workflows_from_template",
    )
    def post(self, request: Request) -> Response:
        payload = WorkflowFromTemplateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        workflow = services.workflow_create_from_template(
            owner=request.user, slug=payload.validated_data["template"]
        )
        return _workflow_response(request, workflow.pk, status.HTTP_201_CREATED)


class NodeKindListApi(_JsonApi):
    @extend_schema(
        responses={200: NodeKindSerializer(many=True)},
        summary="Every node kind: label, ports and the JSON schema of its data",
        operation_id="node_kinds_list",
    )
    def get(self, request: Request) -> Response:
        return Response(node_kind_catalog(max_text_chars=settings.GRAPH_MAX_TEXT_CHARS))


class PortTypesApi(_JsonApi):
    @extend_schema(
        responses={200: PortTypesSerializer},
        summary="How port types connect (the node-kind catalog's companion): same type, wildcard, conversion",
        operation_id="port_types_get",
    )
    def get(self, request: Request) -> Response:
        return Response(port_type_rules())
