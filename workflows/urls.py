"""Workflow API routes, mounted under /api/ by workflowsite.urls (no trailing slashes)."""

from django.urls import path

from workflows import api

_ONE = "workflows/<uuid:workflow_id>"
_VERSION = f"{_ONE}/versions/<int:number>"

urlpatterns = [
    path("workflows", api.WorkflowListCreateApi.as_view(), name="api-workflow-list"),
    path("workflows/from-template", api.WorkflowFromTemplateApi.as_view(), name="api-workflow-from-template"),
    path("workflow-templates", api.WorkflowTemplateListApi.as_view(), name="api-workflow-templates"),
    path("workflows/import", api.WorkflowImportApi.as_view(), name="api-workflow-import"),
    path(_ONE, api.WorkflowDetailApi.as_view(), name="api-workflow-detail"),
    path(f"{_ONE}/versions", api.WorkflowVersionListApi.as_view(), name="api-workflow-versions"),
    path(_VERSION, api.WorkflowVersionDetailApi.as_view(), name="api-workflow-version"),
    path(f"{_ONE}/diff", api.WorkflowVersionDiffApi.as_view(), name="api-workflow-diff"),
    path(f"{_VERSION}/restore", api.WorkflowVersionRestoreApi.as_view(), name="api-workflow-version-restore"),
    path(f"{_ONE}/publish", api.WorkflowPublishApi.as_view(), name="api-workflow-publish"),
    path(f"{_ONE}/duplicate", api.WorkflowDuplicateApi.as_view(), name="api-workflow-duplicate"),
    path(f"{_ONE}/export", api.WorkflowExportApi.as_view(), name="api-workflow-export"),
    path("node-kinds", api.NodeKindListApi.as_view(), name="api-node-kinds"),
    path("port-types", api.PortTypesApi.as_view(), name="api-port-types"),
]
