"""Caches of the run history API, and their invalidation.

- Run list: one entry per user and query (page, limit, status, workflow), 2 minutes, stored under a
  per-user generation number so that bumping the generation drops every page at once.
- Run detail: 15 minutes, and only for finished runs (an active run changes under the poller).
Both are invalidated on every status change of a run, together with the workflows app's caches
(a workflow shows its run count and last run status).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.core.cache import cache

from workflows.cache import workflow_caches_invalidate

RUN_LIST_TTL_SECONDS = 2 * 60
RUN_DETAIL_TTL_SECONDS = 15 * 60


def _generation_key(owner_id: int) -> str:
    return f"runs:{owner_id}:generation"


def _generation(owner_id: int) -> int:
    return cache.get_or_set(_generation_key(owner_id), 1, timeout=None)


def run_list_cache_key(*, owner_id: int, query: dict[str, str]) -> str:
    canonical = "&".join(f"{name}={query[name]}" for name in sorted(query))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    return f"runs:{owner_id}:{_generation(owner_id)}:{digest}"


def run_detail_cache_key(*, owner_id: int, run_id: uuid.UUID | str) -> str:
    return f"run:{owner_id}:{run_id}"


def cache_get(key: str) -> Any:
    return cache.get(key)


def cache_set(key: str, value: Any, *, timeout: int) -> None:
    cache.set(key, value, timeout=timeout)


def run_caches_invalidate(
    *, owner_id: int, run_id: uuid.UUID | str | None = None, workflow_id: uuid.UUID | str | None = None
) -> None:
    try:
        cache.incr(_generation_key(owner_id))
    except ValueError:  # no generation yet: nothing is cached under one
        cache.add(_generation_key(owner_id), 2, timeout=None)
    if run_id is not None:
        cache.delete(run_detail_cache_key(owner_id=owner_id, run_id=run_id))
    # A workflow shows its run count and last run status.
    workflow_caches_invalidate(owner_id=owner_id, workflow_id=workflow_id)
