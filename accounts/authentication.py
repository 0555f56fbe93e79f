"""DRF authentication with personal API tokens: `Authorization: Bearer weft_...`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.services import api_token_authenticate
from core.cached_views import OwnerCachedGetMixin


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        secret = secret.strip()
        if not secret or " " in secret:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        token = api_token_authenticate(secret=secret, entry_parts=_prefetched_entry_parts(request))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        return token.owner, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def _prefetched_entry_parts(request: Request) -> tuple[object, ...]:
    context = request.parser_context or {}
    view = context.get("view")
    if not isinstance(view, OwnerCachedGetMixin):
        return ()
    return view.prefetched_entry_parts(request, context.get("kwargs") or {})


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A personal API token from /api/tokens."}
