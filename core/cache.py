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

On Redis, a request authenticated by a cached credential can read that credential, its owner's generation
and one entry in a single round trip (`owner_entry_prefetch`): a view that knows which entry it will read
names it before authentication, and `owner_cached` then uses what was fetched instead of asking again.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import default_key_func
from django.db import transaction

from core.replicas import reads_from_replica

T = TypeVar("T")


def _generation_key(owner_id: int) -> str:
    return f"owner:{owner_id}:generation"


def _owner_key_suffix(parts: tuple[object, ...]) -> str:
    text = ":".join(str(part) for part in parts)
    if len(text) > 100:
        text = hashlib.sha256(text.encode()).hexdigest()[:32]
    return text


def owner_cache_key(owner_id: int, *parts: object) -> str:
    """The key of one cached payload of the owner: `owner:<id>:<parts>`, long parts hashed."""
    return f"owner:{owner_id}:{_owner_key_suffix(parts)}"


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
    scope = _prefetched.get()
    prefetched = scope.pop(key, None) if scope else None
    if prefetched is not None:
        generation, entry = prefetched.generation, prefetched.entry
    else:
        # The generation and the entry in one round trip; the generation is read before the database is.
        generation_key = _generation_key(owner_id)
        found = cache.get_many([generation_key, key])
        generation, entry = found.get(generation_key), found.get(key)
    if generation is None:
        generation = owner_generation(owner_id)
    if isinstance(entry, dict) and entry.get("generation") == generation:
        return entry["payload"]
    payload = compute()
    if reads_from_replica():
        ttl_seconds = min(ttl_seconds, settings.DATABASE_REPLICA_MAX_LAG_SECONDS)
    cache.set(key, {"generation": generation, "payload": payload}, ttl_seconds)
    return payload


# ---------------------------------------------------------------------------------------------------------
# One round trip for a credential and the entry its request reads
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prefetched:
    generation: int | None
    entry: Any


# Per request (`owner_entry_prefetch_scope`): the entries fetched with the credential, by full key. None
# outside a scope, so that nothing fetched for one request can be found by another on the same thread.
_prefetched: ContextVar[dict[str, _Prefetched] | None] = ContextVar("owner_entry_prefetched", default=None)


@contextlib.contextmanager
def owner_entry_prefetch_scope() -> Iterator[None]:
    """The span (one request) within which `owner_entry_prefetch` results are kept for `owner_cached`."""
    reset_token = _prefetched.set({})
    try:
        yield
    finally:
        _prefetched.reset(reset_token)


# KEYS: a cached credential and its owner's id (written and dropped together). ARGV: the cache's key prefix
# for owner keys and the entry's suffix. Returns the credential, the owner id, the owner's generation and the
# entry; the last two only when both of the first are there, since the owner id names their keys. (Keys
# built inside a script are not declared in KEYS: fine on one Redis, not on Redis Cluster, which Weft does not
# use.)
_CREDENTIAL_AND_ENTRY = """
local credential = redis.call('GET', KEYS[1])
local owner = redis.call('GET', KEYS[2])
if not credential or not owner then
    return {credential or false, owner or false}
end
local owner_prefix = ARGV[1] .. owner .. ':'
local generation = redis.call('GET', owner_prefix .. 'generation')
return {credential, owner, generation, redis.call('GET', owner_prefix .. ARGV[2])}
"""
_script: Any = None


def _redis_cache() -> Any | None:
    """The default cache if it is django-redis with the default key function (the script builds owner
    keys the way `make_key` does), else None."""
    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return None
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend if backend.key_func is default_key_func else None


def owner_entry_prefetch(
    *, credential_key: str, owner_key: str, entry_parts: tuple[object, ...]
) -> tuple[Any, int | None]:
    """Read a cached credential (stored under `credential_key`, its owner's id under `owner_key`) and,
    in the same Redis round trip, that owner's generation and the entry `owner_cache_key(owner,
    *entry_parts)`, which `owner_cached` then takes instead of reading it again in this scope.

    Returns the credential (None if not cached) and the owner id the entry was found through (None if no
    entry was prefetched). The caller must check that the credential is valid and belongs to that owner,
    and call `owner_entry_prefetch_drop` if not, before the entry may be served. Without Redis, outside a
    prefetch scope or without `entry_parts` it reads the credential alone, as one GET.
    """
    scope = _prefetched.get() if entry_parts else None
    backend = _redis_cache() if scope is not None else None
    if backend is None:
        return cache.get(credential_key), None
    global _script
    client = backend.client.get_client(write=False)
    if _script is None:
        # Registered once per process: later calls send EVALSHA (redis-py loads the script again if Redis
        # restarted and forgot it).
        _script = client.register_script(_CREDENTIAL_AND_ENTRY)
    values = _script(
        keys=[backend.make_key(credential_key), backend.make_key(owner_key)],
        args=[backend.make_key("owner:"), _owner_key_suffix(entry_parts)],
        client=client,
    )
    if len(values) < 4 or values[0] is None:
        return None, None
    decode = backend.client.decode
    credential, owner_id = decode(values[0]), int(decode(values[1]))
    generation = decode(values[2]) if values[2] is not None else None
    entry = decode(values[3]) if values[3] is not None else None
    scope[owner_cache_key(owner_id, *entry_parts)] = _Prefetched(generation=generation, entry=entry)
    return credential, owner_id


def owner_entry_prefetch_drop() -> None:
    """Forget what this scope prefetched: the credential turned out not to be its owner's, or was refused."""
    scope = _prefetched.get()
    if scope is not None:
        scope.clear()
