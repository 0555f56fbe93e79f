"""Trigger API routes, mounted under /api/ by workflowsite.urls; `hook_urlpatterns` is the public /hooks/."""

from __future__ import annotations

from django.urls import path

from core import converters  # noqa: F401  (registers <text:>)
from triggers import api, views

urlpatterns = [
    path(
        "workflows/<uuid:workflow_id>/webhooks", api.WebhookListCreateApi.as_view(), name="api-webhook-list"
    ),
    path("webhooks/<uuid:webhook_id>", api.WebhookDetailApi.as_view(), name="api-webhook-detail"),
    path("webhooks/<uuid:webhook_id>/rotate", api.WebhookRotateApi.as_view(), name="api-webhook-rotate"),
    path(
        "workflows/<uuid:workflow_id>/schedules",
        api.ScheduleListCreateApi.as_view(),
        name="api-schedule-list",
    ),
    path("schedules/<uuid:schedule_id>", api.ScheduleDetailApi.as_view(), name="api-schedule-detail"),
]

hook_urlpatterns = [path("hooks/<text:token>", views.webhook_call_view, name="webhook-call")]
