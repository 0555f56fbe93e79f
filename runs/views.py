"""Run pages: all runs, and one run with its node results, timeline and logs (data from the REST API)."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from runs import selectors


@login_required
def run_detail_page(request: HttpRequest, run_id: UUID) -> HttpResponse:
    # Someone else's run is a 404 page here as it is in the API.
    run = selectors.run_get(owner=request.user, run_id=run_id)
    return render(
        request, "runs/detail.html", {"active": "runs", "run": run, "bootstrap": {"id": str(run.id)}}
    )
