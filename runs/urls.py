from __future__ import annotations

from django.urls import path

from core import converters  # noqa: F401  (registers <textpath:>)
from runs import api, approvals_api, stream

urlpatterns = [
    path("execute", api.ExecuteApi.as_view(), name="api-execute"),
    path("execute/plan", api.ExecutePlanApi.as_view(), name="api-execute-plan"),
    path("usage", api.UsageApi.as_view(), name="api-usage"),
    path("workflows/<uuid:workflow_id>/runs", api.WorkflowRunStartApi.as_view(), name="api-workflow-runs"),
    path("runs", api.RunListApi.as_view(), name="api-run-list"),
    path("runs/<uuid:run_id>", api.RunDetailApi.as_view(), name="api-run-detail"),
    path(
        "runs/<uuid:run_id>/nodes/<textpath:node_id>/output",
        api.RunNodeOutputApi.as_view(),
        name="api-run-node-output",
    ),
    path("runs/<uuid:run_id>/events", stream.run_events, name="api-run-events"),
    path("runs/<uuid:run_id>/logs", api.RunLogsApi.as_view(), name="api-run-logs"),
    path("runs/<uuid:run_id>/cancel", api.RunCancelApi.as_view(), name="api-run-cancel"),
    path("runs/<uuid:run_id>/rerun", api.RunRerunApi.as_view(), name="api-run-rerun"),
    path("runs/<uuid:run_id>/resume", api.RunResumeApi.as_view(), name="api-run-resume"),
    path(
        "runs/<uuid:run_id>/approvals/<textpath:node_id>",
        approvals_api.ApprovalDecideApi.as_view(),
        name="api-run-approval-decide",
    ),
    path("approvals", approvals_api.ApprovalInboxApi.as_view(), name="api-approvals"),
]
