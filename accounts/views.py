"""Account pages beyond allauth's: the settings page where people create and revoke API tokens."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def tokens_page(request: HttpRequest) -> HttpResponse:
    # The list, creation and revocation go through /api/tokens from static/js/tokens.js.
    return render(request, "accounts/tokens.html", {"active": "settings"})
