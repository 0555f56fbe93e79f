"""The browser pages (server-rendered templates); the REST API they call lives under /api."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.generic import TemplateView

from core import converters  # noqa: F401  (registers <text:>)
from evaluations import views as evaluation_views
from runs import views as run_views
from workflows import views as workflow_views


def _list_page(template: str, active: str) -> Callable[..., HttpResponse]:
    """A page whose content the front end loads from the API: only the template and the active tab."""
    return login_required(TemplateView.as_view(template_name=template, extra_context={"active": active}))


urlpatterns = [
    path("", workflow_views.home, name="home"),
    path("workflows/", _list_page("workflows/list.html", "workflows"), name="workflow-list-page"),
    path("workflows/<uuid:workflow_id>/", workflow_views.workflow_editor_page, name="workflow-editor-page"),
    path(
        "workflows/<uuid:workflow_id>/experiments/",
        evaluation_views.experiments_page,
        name="workflow-experiments-page",
    ),
    path("runs/", _list_page("runs/list.html", "runs"), name="run-list-page"),
    path("runs/<uuid:run_id>/", run_views.run_detail_page, name="run-detail-page"),
    path("usage/", _list_page("runs/usage.html", "usage"), name="usage-page"),
    path("approvals/", _list_page("runs/approvals.html", "approvals"), name="approval-inbox-page"),
    # The signed link an approval's email carries (runs.notifications).
    path("approvals/<text:link>/", run_views.approval_link_page, name="approval-link-page"),
    # The list, creation and revocation go through /api/tokens from static/js/tokens.js.
    path("settings/tokens/", _list_page("accounts/tokens.html", "settings"), name="tokens-page"),
    # Through /api/connections from static/js/connections.js; secrets are written, never read back.
    path(
        "settings/connections/",
        _list_page("connections/list.html", "connections"),
        name="connections-page",
    ),
]
