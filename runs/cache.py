"""Cached run payloads: a user's list pages (2 minutes) and runs' details (15 minutes). An active run's
detail changes with every batch its worker writes, and every batch moves the generation, so its poller
reads the database once a batch, not once a poll.

Both carry the owner's cache generation (core.cache), which every write of a run or of its
workflow moves on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from core.cache import owner_cache_key, owner_cached

RUN_LIST_TTL_SECONDS = 2 * 60
RUN_DETAIL_TTL_SECONDS = 15 * 60


def run_list_cached(*, owner_id: int, query: dict[str, str], compute: Callable[[], Any]) -> Any:
    """The list payload for one query (page, limit and filters), computed by `compute` on a miss."""
    variant = "&".join(f"{name}={query[name]}" for name in sorted(query))
    key = owner_cache_key(owner_id, "runs", variant)
    return owner_cached(owner_id=owner_id, key=key, ttl_seconds=RUN_LIST_TTL_SECONDS, compute=compute)


def run_detail_cache_parts(*, run_id: uuid.UUID | str) -> tuple[object, ...]:
    return ("run", run_id)


def run_detail_cache_key(*, owner_id: int, run_id: uuid.UUID | str) -> str:
    return owner_cache_key(owner_id, *run_detail_cache_parts(run_id=run_id))


def run_detail_cached(*, owner_id: int, run_id: uuid.UUID | str, compute: Callable[[], Any]) -> Any:
    key = run_detail_cache_key(owner_id=owner_id, run_id=run_id)
    return owner_cached(owner_id=owner_id, key=key, ttl_seconds=RUN_DETAIL_TTL_SECONDS, compute=compute)
