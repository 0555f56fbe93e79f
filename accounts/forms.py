"""The admin's and the browsable API's password login forms, throttled like allauth's own."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, authenticating through allauth's account adapter as allauth's login form does:
    its `login_failed` limits (per client address and per account) then count failures from every form
    together, and a locked account or address is refused on every form with allauth's message."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            adapter = get_adapter(self.request)
            self.user_cache = adapter.authenticate(self.request, email=username, password=password)
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The same, with the admin's staff-only check (AdminAuthenticationForm.confirm_login_allowed)."""
