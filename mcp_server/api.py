"""`GET`/`PUT /api/workflows/{id}/mcp`: whether the workflow is an MCP tool, its name and description."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import bad_request
from mcp_server.selectors import tool_name_default, workflow_tool_settings
from mcp_server.serializers import WorkflowToolSerializer
from mcp_server.services import workflow_tool_set
from workflows.selectors import workflow_get

_NOT_FOUND = {404: OpenApiResponse(description="No such workflow (or another user's).")}


class WorkflowToolApi(APIView):
    @extend_schema(
        operation_id="workflows_mcp_retrieve", responses={200: WorkflowToolSerializer, **_NOT_FOUND}
    )
    def get(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        return Response(WorkflowToolSerializer(workflow_tool_settings(workflow=workflow)).data)

    @extend_schema(
        operation_id="workflows_mcp_update",
        summary="Offer the workflow as an MCP tool",
        description="An enabled tool of a published workflow is listed and callable at `/mcp` with your API "
        "token; it runs the published version.",
        request=WorkflowToolSerializer,
        responses={
            200: WorkflowToolSerializer,
            400: bad_request("An invalid name."),
            409: OpenApiResponse(description="Another of your workflows has a tool of that name."),
            **_NOT_FOUND,
        },
    )
    def put(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        payload = WorkflowToolSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        tool = workflow_tool_set(
            workflow=workflow,
            enabled=data["enabled"],
            name=data.get("name") or tool_name_default(workflow.name),
            description=data.get("description", workflow.description),
        )
        return Response(WorkflowToolSerializer(tool).data)
