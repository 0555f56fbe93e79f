"""Cached workflow payloads: a user's list pages (5 min) and single workflows (10 min).

Both carry the owner's cache generation (core.cache), which every write of a workflow or of its
runs moves on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from core.cache import owner_cache_key, owner_cached

LIST_TTL_SECONDS = 5 * 60
DETAIL_TTL_SECONDS = 10 * 60


def workflow_list_cached(*, owner_id: int, variant: str, compute: Callable[[], Any]) -> Any:
    """The list payload for one page/limit/search `variant`, computed by `compute` on a miss."""
    key = owner_cache_key(owner_id, "workflows", variant)
    return owner_cached(owner_id=owner_id, key=key, ttl_seconds=LIST_TTL_SECONDS, compute=compute)


def workflow_detail_cache_parts(*, workflow_id: UUID | str) -> tuple[object, ...]:
    return ("workflow", workflow_id)


def workflow_detail_cached(*, owner_id: int, workflow_id: UUID | str, compute: Callable[[], Any]) -> Any:
    key = owner_cache_key(owner_id, *workflow_detail_cache_parts(workflow_id=workflow_id))
    return owner_cached(owner_id=owner_id, key=key, ttl_seconds=DETAIL_TTL_SECONDS, compute=compute)
