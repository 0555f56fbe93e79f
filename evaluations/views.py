"""The Experiments page of a workflow; its data comes from the API, called by static/js/experiments.js."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workflows.selectors import workflow_get


@login_required
def experiments_page(request: HttpRequest, workflow_id: UUID) -> HttpResponse:
    # Fetched so that someone else's (or a missing) workflow is a 404 page.
    workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
    bootstrap = {"id": str(workflow.id), "name": workflow.name, "version": workflow.version}
    return render(
        request,
        "evaluations/experiments.html",
        {"active": "workflows", "workflow": workflow, "bootstrap": bootstrap},
    )
