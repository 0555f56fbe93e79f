"""allauth's account adapter for Weft: email uniqueness and login rate-limit keys by the email lookup key."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest

from accounts.emails import email_lookup_key
from accounts.models import User

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def validate_unique_email(self, email: str) -> str:
        # allauth checks the lower-cased address; a look-alike spelling of a taken one must be refused too.
        if User.objects.filter(email_key=email_lookup_key(email)).exists():
            raise self.validation_error("email_taken")
        return super().validate_unique_email(email)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # Failed logins are counted per account: every spelling that finds the account shares one count,
        # so look-alike spellings cannot buy an attacker more guesses.
        login = credentials.get("email") or credentials.get("username") or ""
        return f"{get_current_site(request).domain}:{email_lookup_key(login)}"

    def get_client_ip(self, request: HttpRequest) -> str:
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            # X-Forwarded-For has fewer entries than TRUSTED_PROXY_COUNT: the request skipped a proxy, so
            # every entry is the client's own claim. allauth would answer 500; the connecting address is
            # the one that cannot be forged.
            logger.warning("X-Forwarded-For has fewer entries than TRUSTED_PROXY_COUNT; using REMOTE_ADDR")
            address = request.META.get("REMOTE_ADDR")
            if not address:
                raise PermissionDenied("Unable to determine client IP address") from None
            return address
