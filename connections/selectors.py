"""Reads for connections, scoped to their owner; the connections a user's runs may call, as engine config."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet

import engine
from accounts.models import User
from connections.addresses import url_refusal
from connections.models import MODEL_KINDS, Connection, ConnectionKind
from core.errors import NotFound


def connection_list(*, owner: User) -> QuerySet[Connection]:
    return Connection.objects.filter(owner=owner).order_by("-created_at", "-id")


def connection_get(*, owner: User, connection_id: object) -> Connection:
    """The owner's connection with this id; another user's, a site connection or a missing one is a 404."""
    try:
        parsed = uuid.UUID(str(connection_id))
    except ValueError:
        parsed = None
    connection = None if parsed is None else connection_list(owner=owner).filter(pk=parsed).first()
    if connection is None:
        raise NotFound("No such connection.")
    return connection


def environment_connections() -> list[engine.ConnectionConfig]:
    """The site connections the environment's keys make (GEMINI_API_KEY, GROQ_API_KEY, OPENAI_API_KEY)."""
    keys = [
        ("gemini", settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL),
        ("groq", settings.GROQ_API_KEY, settings.GROQ_BASE_URL),
        ("openai", settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL),
    ]
    return [engine.ConnectionConfig(slug, slug, key, url or None) for slug, key, url in keys if key]


def usable_connections(*, owner: User) -> dict[str, engine.ConnectionConfig]:
    """Every model connection `owner` can name in a chain, by slug: the environment's, then the admin's
    site connections, then the user's own, each shadowing the one before of the same slug.

    A user's URL is checked again here, after resolving its host: one that now reaches a refused address
    carries the refusal and fails the node that uses it."""
    usable = {connection.slug: connection for connection in environment_connections()}
    rows = _usable(owner=owner, kinds=MODEL_KINDS)
    for row in sorted(rows, key=lambda row: row.owner_id is not None):
        refusal = url_refusal(row.base_url) if row.owner_id is not None and row.base_url else None
        usable[row.slug] = connection_config(row, refusal=refusal)
    return usable


def usable_slugs(*, owner: User) -> set[str]:
    """The slugs `owner` can name in a chain (one query, nothing decrypted)."""
    rows = _usable(owner=owner, kinds=MODEL_KINDS)
    return {c.slug for c in environment_connections()} | set(rows.values_list("slug", flat=True))


def graph_chain_issues(*, owner: User, graph: Any) -> list[engine.ValidationIssue]:
    """LLM and Vision nodes whose chain names a connection `owner` cannot use (theirs, the site's)."""
    if not isinstance(graph, Mapping) or not isinstance(graph.get("nodes"), list):
        return []
    chains = [
        (index, node["data"]["models"])
        for index, node in enumerate(graph["nodes"])
        if isinstance(node, Mapping)
        and isinstance(node.get("data"), Mapping)
        and isinstance(node["data"].get("models"), list)
    ]
    if not chains:
        return []
    slugs = usable_slugs(owner=owner)
    return [
        engine.ValidationIssue(
            f"nodes[{index}].data.models[{position}]", f"no connection named {entry.partition('/')[0]!r}"
        )
        for index, models in chains
        for position, entry in enumerate(models)
        if isinstance(entry, str) and entry.partition("/")[0] not in slugs
    ]


def http_auth_headers(*, owner: User, slug: str) -> dict[str, str] | None:
    """The headers of the HTTP connection `owner` names `slug` (their own, else the site's): its extra
    headers and its header carrying the secret, decrypted; None when there is no such connection."""
    usable = _usable(owner=owner, kinds=[ConnectionKind.HTTP]).filter(slug=slug)
    row = usable.order_by(F("owner").asc(nulls_last=True)).first()
    return None if row is None else {**row.extra_headers, row.header_name: row.secret}


def graph_auth_issues(*, owner: User, graph: Any) -> list[engine.ValidationIssue]:
    """HTTP Request nodes whose `auth` names no HTTP connection `owner` can use (theirs, the site's)."""
    if not isinstance(graph, Mapping) or not isinstance(graph.get("nodes"), list):
        return []
    named = [
        (index, node["data"]["auth"])
        for index, node in enumerate(graph["nodes"])
        if isinstance(node, Mapping)
        and node.get("type") == "http"
        and isinstance(node.get("data"), Mapping)
        and isinstance(node["data"].get("auth"), str)
        and node["data"]["auth"]
    ]
    if not named:
        return []
    slugs = set(_usable(owner=owner, kinds=[ConnectionKind.HTTP]).values_list("slug", flat=True))
    return [
        engine.ValidationIssue(f"nodes[{index}].data.auth", f"no HTTP connection named {slug!r}")
        for index, slug in named
        if slug not in slugs
    ]


def _usable(*, owner: User, kinds: Collection[str]) -> QuerySet[Connection]:
    """The stored connections of these kinds that `owner` may use: the site's and their own."""
    return Connection.objects.filter(Q(owner__isnull=True) | Q(owner=owner), kind__in=kinds)


def connection_config(connection: Connection, *, refusal: str | None = None) -> engine.ConnectionConfig:
    return engine.ConnectionConfig(
        slug=connection.slug,
        kind=connection.kind,
        api_key=connection.secret,
        base_url=connection.base_url or None,
        headers=tuple(sorted(connection.extra_headers.items())),
        local=connection.local,
        refusal=refusal,
    )
