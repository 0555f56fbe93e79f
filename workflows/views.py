"""Workflow pages: the list and the editor. Their data comes from the REST API, called by static/js."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from uploads.images import ALLOWED_CONTENT_TYPES
from workflows import selectors


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("workflow-list-page")
    return redirect("account_login")


@login_required
def workflow_editor_page(request: HttpRequest, workflow_id: UUID) -> HttpResponse:
    # Fetched here only so that someone else's (or a missing) workflow is a 404 page, not an empty editor.
    workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
    bootstrap = {"id": str(workflow.id), "name": workflow.name, "imageTypes": ALLOWED_CONTENT_TYPES}
    return render(
        request,
        "workflows/editor.html",
        {"active": "workflows", "workflow": workflow, "bootstrap": bootstrap},
    )
