"""MCP tool settings routes, mounted under /api/ by workflowsite.urls."""

from django.urls import path

from mcp_server import api

urlpatterns = [
    path("workflows/<uuid:workflow_id>/mcp", api.WorkflowToolApi.as_view(), name="api-workflow-mcp"),
]
