"""Workflow API routes, mounted under /api/ by workflowsite.urls (no trailing slashes)."""

from django.urls import path

from workflows import api

urlpatterns = [
    path("workflows", api.WorkflowListCreateApi.as_view(), name="api-workflow-list"),
    path("workflows/import", api.WorkflowImportApi.as_view(), name="api-workflow-import"),
    path("workflows/<uuid:workflow_id>", api.WorkflowDetailApi.as_view(), name="api-workflow-detail"),
    path(
        "workflows/<uuid:workflow_id>/versions",
        api.WorkflowVersionListApi.as_view(),
        name="api-workflow-versions",
    ),
    path(
        "workflows/<uuid:workflow_id>/versions/<int:number>",
        api.WorkflowVersionDetailApi.as_view(),
        name="api-workflow-version",
    ),
    path(
        "workflows/<uuid:workflow_id>/versions/<int:number>/restore",
        api.WorkflowVersionRestoreApi.as_view(),
        name="api-workflow-version-restore",
    ),
    path(
        "workflows/<uuid:workflow_id>/duplicate",
        api.WorkflowDuplicateApi.as_view(),
        name="api-workflow-duplicate",
    ),
    path("workflows/<uuid:workflow_id>/export", api.WorkflowExportApi.as_view(), name="api-workflow-export"),
    path("node-kinds", api.NodeKindListApi.as_view(), name="api-node-kinds"),
]
