"""Writes for connections: create, change, delete, test, list a connection's models, rotate the keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_ratelimit.core import get_usage

import engine
from accounts.models import User
from connections import crypto
from connections.addresses import url_refusal
from connections.models import MODEL_KINDS, Connection, ConnectionKind, networks_setting
from connections.selectors import connection_config
from core.errors import DomainError
from engine.providers.base import AttemptFailed

_HIDDEN = "****"


class ConnectionInvalid(DomainError):
    """A field of a connection is wrong: a 400 at `path`, the field as the API spells it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message, errors=[{"path": path, "message": message}])
        self.path = path


class ConnectionUnreachable(DomainError):
    """The provider did not answer or refused (its message, without the secret): 424 (Failed Dependency),
    the connection's problem rather than this server's."""

    http_status = 424
    code = "provider_unreachable"


class ProviderCallsRateLimited(DomainError):
    http_status = 429
    code = "rate_limited"


@transaction.atomic
def connection_create(
    *,
    owner: User,
    name: str,
    slug: str,
    kind: str,
    base_url: str = "",
    secret: str = "",
    headers: Mapping[str, str] | None = None,
    header_name: str = "Authorization",
    local: bool = False,
) -> Connection:
    connection = Connection(owner=owner, name=name, slug=slug, kind=kind, base_url=base_url, local=local)
    connection.header_name = header_name
    connection.set_secret(secret)
    connection.set_extra_headers(dict(headers or {}))
    _check(connection, url_changed=True)
    _save(connection)
    return connection


@transaction.atomic
def connection_update(
    *,
    connection: Connection,
    secret: str | None = None,
    headers: Mapping[str, str] | None = None,
    **fields: object,
) -> Connection:
    """Change the given fields; a secret or headers left out (None) stay as they are."""
    for name, value in fields.items():
        setattr(connection, name, value)
    if secret is not None:
        connection.set_secret(secret)
    if headers is not None:
        connection.set_extra_headers(dict(headers))
    # A rename keeps a URL that was accepted; a new URL is checked (and again whenever a run calls it).
    _check(connection, url_changed="base_url" in fields)
    _save(connection)
    return connection


def connection_delete(*, connection: Connection) -> None:
    connection.delete()


def connection_models(*, connection: Connection) -> list[str]:
    """The model ids the connection's server offers (a real call), raising ConnectionUnreachable."""
    if connection.kind not in MODEL_KINDS:
        raise ConnectionInvalid("kind", f"a {connection.kind} connection has no models")
    refusal = url_refusal(connection.base_url) if connection.owner_id and connection.base_url else None
    if refusal:
        raise ConnectionUnreachable(f"The URL is refused: {refusal}.")
    config = connection_config(connection)
    provider = engine.provider_for(config, timeout_s=settings.LLM_TIMEOUT_SECONDS)
    try:
        models = provider.list_models()
    except AttemptFailed as failure:
        raise ConnectionUnreachable(_without_secrets(failure.message, config)) from failure
    Connection.objects.filter(pk=connection.pk).update(last_used_at=timezone.now())
    return models


def connection_test(*, connection: Connection) -> tuple[bool, str]:
    """A cheap real call (list the models): whether it worked, and what the provider said."""
    try:
        models = connection_models(connection=connection)
    except (ConnectionUnreachable, ConnectionInvalid) as failure:
        return False, failure.message
    return True, f"Connected: {len(models)} model{'s' if len(models) != 1 else ''} available."


def provider_calls_count(*, owner: User) -> None:
    """Count one test or model list of `owner`'s (they call the provider); refused past
    CONNECTION_CALL_RATE_LIMIT, counted in the shared cache like run starts."""
    rate = settings.CONNECTION_CALL_RATE_LIMIT
    usage: dict[str, Any] | None = get_usage(
        None, group="connections.call", key=lambda *_: f"user:{owner.pk}", rate=rate, increment=True
    )
    if usage is not None and usage["should_limit"]:
        raise ProviderCallsRateLimited(
            f"Rate limit of {rate} provider calls exceeded.", retry_after=max(1, usage["time_left"])
        )


def connections_mark_used(*, owner: User, slugs: set[str]) -> None:
    if slugs:
        Connection.objects.filter(owner=owner, slug__in=slugs).update(last_used_at=timezone.now())


def connections_rotate_keys() -> int:
    """Re-encrypt every stored secret under the first of WEFT_ENCRYPTION_KEYS; how many rows changed."""
    rotated = 0
    with transaction.atomic():
        rows = Connection.objects.select_for_update().exclude(secret_encrypted="", headers_encrypted="")
        for connection in rows.only("id", "secret_encrypted", "headers_encrypted"):
            if connection.secret_encrypted:
                connection.secret_encrypted = crypto.reencrypt(connection.secret_encrypted)
            if connection.headers_encrypted:
                connection.headers_encrypted = crypto.reencrypt(connection.headers_encrypted)
            connection.save(update_fields=["secret_encrypted", "headers_encrypted"])
            rotated += 1
    return rotated


def _check(connection: Connection, *, url_changed: bool) -> None:
    if connection.kind not in ConnectionKind.values:
        raise ConnectionInvalid("kind", f"unknown kind {connection.kind!r}")
    if connection.kind == ConnectionKind.MCP and not connection.base_url:
        raise ConnectionInvalid("baseUrl", "an mcp connection needs the server's URL")
    if connection.kind == ConnectionKind.HTTP and not connection.header_name:
        raise ConnectionInvalid("headerName", "an http connection needs the header that carries the secret")
    if url_changed and connection.owner_id is not None and connection.base_url:
        refusal = url_refusal(connection.base_url, networks_setting=networks_setting(connection.kind))
        if refusal:
            raise ConnectionInvalid("baseUrl", f"this URL is refused: {refusal}")


def _save(connection: Connection) -> None:
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as exc:  # the (owner, slug) constraint: also two requests at once
        raise ConnectionInvalid("slug", f"you already have a connection named {connection.slug!r}") from exc


def _without_secrets(message: str, config: engine.ConnectionConfig) -> str:
    """A provider may echo what it was sent; nothing secret leaves in its message."""
    for secret in (config.api_key, *(value for _, value in config.headers)):
        if secret and len(secret) >= 4:
            message = message.replace(secret, _HIDDEN)
    return message
