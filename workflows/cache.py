"""Cached workflow payloads: a user's list pages (5 min) and single workflows (10 min).

Every entry is stamped with the owner's cache generation. Invalidation replaces the generation and
deletes the single-workflow key, so one write drops every list page and search variant at once.
Readers take the generation *before* they query the database: a reader that raced a write stores its
stale payload under a generation that is already dead, so it can never be served.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db import transaction

LIST_TTL_SECONDS = 5 * 60
DETAIL_TTL_SECONDS = 10 * 60
# The generation only has to outlive the entries stamped with it; when it expires a fresh one is drawn.
_GENERATION_TTL_SECONDS = 24 * 60 * 60


def list_key_prefix(owner_id: int) -> str:
    return f"workflows:{owner_id}"


def detail_key(owner_id: int, workflow_id: UUID | str) -> str:
    return f"workflow:{owner_id}:{workflow_id}"


def _generation_key(owner_id: int) -> str:
    return f"{list_key_prefix(owner_id)}:generation"


def _generation(owner_id: int) -> str:
    key = _generation_key(owner_id)
    current = cache.get(key)
    if current is None:
        cache.add(key, uuid.uuid4().hex, _GENERATION_TTL_SECONDS)
        current = cache.get(key)
    return current


def _list_key(owner_id: int, generation: str, variant: str) -> str:
    digest = hashlib.sha256(variant.encode()).hexdigest()[:32]
    return f"{list_key_prefix(owner_id)}:{generation}:{digest}"


def _cached(key: str, generation: str, ttl: int, compute: Callable[[], Any]) -> Any:
    entry = cache.get(key)
    if isinstance(entry, dict) and entry.get("generation") == generation:
        return entry["payload"]
    payload = compute()
    cache.set(key, {"generation": generation, "payload": payload}, ttl)
    return payload


def workflow_list_cached(*, owner_id: int, variant: str, compute: Callable[[], Any]) -> Any:
    """The list payload for one page/limit/search `variant`, computed by `compute` on a miss."""
    generation = _generation(owner_id)
    return _cached(_list_key(owner_id, generation, variant), generation, LIST_TTL_SECONDS, compute)


def workflow_detail_cached(*, owner_id: int, workflow_id: UUID | str, compute: Callable[[], Any]) -> Any:
    generation = _generation(owner_id)
    return _cached(detail_key(owner_id, workflow_id), generation, DETAIL_TTL_SECONDS, compute)


def _invalidate_now(owner_id: int, workflow_id: UUID | str | None) -> None:
    cache.set(_generation_key(owner_id), uuid.uuid4().hex, _GENERATION_TTL_SECONDS)
    if workflow_id is not None:
        cache.delete(detail_key(owner_id, workflow_id))


def workflow_caches_invalidate(*, owner_id: int, workflow_id: UUID | str | None = None) -> None:
    """Drop the owner's cached lists and, given `workflow_id`, that workflow's cached payload.

    Call it after any change to a workflow or to its runs' count or status. It acts twice: now, so
    that reads later in the same transaction miss, and again once the transaction commits, so that a
    reader in another request that cached the pre-commit state in between is dropped too.
    """
    _invalidate_now(owner_id, workflow_id)
    transaction.on_commit(lambda: _invalidate_now(owner_id, workflow_id))
