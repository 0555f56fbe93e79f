"""The browser pages (server-rendered templates); the REST API they call lives under /api."""

from __future__ import annotations

from django.urls import path

from accounts import views as account_views
from runs import views as run_views
from workflows import views as workflow_views

urlpatterns = [
    path("", workflow_views.home, name="home"),
    path("workflows/", workflow_views.workflow_list_page, name="workflow-list-page"),
    path("workflows/<uuid:workflow_id>/", workflow_views.workflow_editor_page, name="workflow-editor-page"),
    path("runs/", run_views.run_list_page, name="run-list-page"),
    path("runs/<uuid:run_id>/", run_views.run_detail_page, name="run-detail-page"),
    path("settings/tokens/", account_views.tokens_page, name="tokens-page"),
]
