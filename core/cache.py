"""One cache generation per owner: every cached API payload of a user is stamped with it.

A write that changes anything a user's cached payloads show (a workflow saved or deleted, a run created,
changing status or purged, the user deleted) calls `owner_caches_invalidate` once, and every cached
payload of that owner, whichever app stored it, is stale from then on. Payloads of one app show data of
another (a run shows its workflow's name, a workflow its run count), so there is one generation, not one
per app.

The generation moves when the write's transaction commits, never before: a reader that took the old
generation may have read the database before the commit, and it stores its payload under a generation
that is already dead, so that payload is never served. A reader that takes the new generation reads
committed data, except from a read replica, which may lag: a payload read there is kept no longer than
DATABASE_REPLICA_MAX_LAG_SECONDS.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from core.replicas import reads_from_replica

T = TypeVar("T")


def _generation_key(owner_id: int) -> str:
    return f"owner:{owner_id}:generation"


def owner_cache_key(owner_id: int, *parts: object) -> str:
    """The key of one cached payload of the owner: `owner:<id>:<parts>`, long parts hashed."""
    text = ":".join(str(part) for part in parts)
    if len(text) > 100:
        text = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"owner:{owner_id}:{text}"


def owner_generation(owner_id: int) -> int:
    """The owner's current generation.

    It starts at a random number, so a generation lost from the cache (evicted) never comes back as a
    number some still-living payload was stamped with.
    """
    key = _generation_key(owner_id)
    current = cache.get(key)
    if current is None:
        cache.add(key, secrets.randbits(62), timeout=None)
        current = cache.get(key)
    return current


def _generation_bump(owner_id: int) -> None:
    # Without a generation yet (ValueError), nothing of this owner is cached under one.
    with contextlib.suppress(ValueError):
        cache.incr(_generation_key(owner_id))


def owner_caches_invalidate(*, owner_id: int) -> None:
    """Make every cached payload of the owner stale once the current transaction commits (now without one).

    Robust: an unreachable cache is logged, never raised, so a Redis outage cannot fail the write (a run's
    progress, its end) that was already committed; a restarted Redis holds no stale payload anyway.
    """
    transaction.on_commit(lambda: _generation_bump(owner_id), robust=True)


def owner_cached(
    *,
    owner_id: int,
    key: str,
    ttl_seconds: float,
    compute: Callable[[], T],
) -> T:
    """The payload cached under `key` if it carries the owner's current generation, else `compute()`,
    stored for `ttl_seconds`."""
    # The generation and the entry in one round trip; the generation is read before the database is.
    generation_key = _generation_key(owner_id)
    found = cache.get_many([generation_key, key])
    generation = found.get(generation_key)
    if generation is None:
        generation = owner_generation(owner_id)
    entry = found.get(key)
    if isinstance(entry, dict) and entry.get("generation") == generation:
        return entry["payload"]
    payload = compute()
    if reads_from_replica():
        ttl_seconds = min(ttl_seconds, settings.DATABASE_REPLICA_MAX_LAG_SECONDS)
    cache.set(key, {"generation": generation, "payload": payload}, ttl_seconds)
    return payload
