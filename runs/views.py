"""Run pages: one run with its node results, timeline and logs (data from the REST API), and where an
approval's emailed link leads."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from runs import selectors
from runs.notifications import approval_link_read


@login_required
def run_detail_page(request: HttpRequest, run_id: UUID) -> HttpResponse:
    # Someone else's run is a 404 page here as it is in the API.
    run = selectors.run_get(owner=request.user, run_id=run_id)
    return render(
        request, "runs/detail.html", {"active": "runs", "run": run, "bootstrap": {"id": str(run.id)}}
    )


@login_required
def approval_link_page(request: HttpRequest, link: str) -> HttpResponse:
    """An emailed approval link: to the run page, where the approval is decided; a link that is not signed
    here, or names someone else's approval, is a 404 page."""
    run_id, node_id = approval_link_read(link)
    approval = selectors.approval_get(owner=request.user, run_id=run_id, node_id=node_id)
    return redirect("run-detail-page", run_id=approval.run_id)
