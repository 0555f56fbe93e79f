"""Each user's open live event streams, so that no user holds more than RUN_EVENTS_MAX_STREAMS_PER_USER.

Counted in the shared cache, so that every web process sees the same count: on Redis one sorted set per user
of slot ids scored by when they lapse; with the local-memory cache (one process, no Redis) a dict of the same
in the cache, changed under a lock. A stream renews its slot as it runs and gives it back when it ends; a slot
not renewed within its lease (its process died) no longer counts, so a crash leaks no slot for long.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import uuid

import redis
from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache

from core.errors import CAP_RETRY_AFTER_SECONDS, DomainError

# A stream renews its slot at least once a heartbeat; a slot lapses after missing two renewals.
LEASE_HEARTBEATS = 3

_local_lock = threading.Lock()


class TooManyStreams(DomainError):
    http_status = 429
    code = "too_many_streams"


def stream_slot_lease_seconds() -> float:
    return LEASE_HEARTBEATS * settings.RUN_EVENTS_HEARTBEAT_SECONDS


def _key(user_id: int) -> str:
    return caches["default"].make_key(f"run-event-streams:{user_id}")


def _redis() -> redis.Redis | None:
    cache = caches["default"]
    return cache.client.get_client(write=True) if isinstance(cache, RedisCache) else None


def _local_slots(key: str, now: float) -> dict[str, float]:
    """The user's slots that have not lapsed, from the local-memory cache (call with _local_lock held)."""
    slots: dict[str, float] = caches["default"].get(key, {})
    return {slot: lapses_at for slot, lapses_at in slots.items() if lapses_at > now}


def _local_store(key: str, slots: dict[str, float]) -> None:
    caches["default"].set(key, slots, timeout=math.ceil(stream_slot_lease_seconds()))


def stream_slot_take(*, user_id: int) -> str:
    """A slot for one more stream of this user (its id); TooManyStreams when they have
    RUN_EVENTS_MAX_STREAMS_PER_USER open."""
    limit = settings.RUN_EVENTS_MAX_STREAMS_PER_USER
    slot, key, now = uuid.uuid4().hex, _key(user_id), time.time()
    lease_s = stream_slot_lease_seconds()
    client = _redis()
    if client is not None:
        # One MULTI: the count includes this slot and every slot taken before it, in any process.
        pipe = client.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {slot: now + lease_s})
        pipe.zcard(key)
        pipe.expire(key, math.ceil(lease_s))
        _, _, open_streams, _ = pipe.execute()
        if open_streams <= limit:
            return slot
        client.zrem(key, slot)
    else:
        with _local_lock:
            slots = _local_slots(key, now)
            if len(slots) < limit:
                _local_store(key, slots | {slot: now + lease_s})
                return slot
    raise TooManyStreams(
        f"You have {limit} live event streams open, the most allowed at once; close one (another tab?) "
        "or try again later.",
        retry_after=CAP_RETRY_AFTER_SECONDS,
    )


def stream_slot_renew(*, user_id: int, slot: str) -> None:
    """The stream still runs: its slot counts for another lease."""
    key, lapses_at = _key(user_id), time.time() + stream_slot_lease_seconds()
    client = _redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.zadd(key, {slot: lapses_at})
        pipe.expire(key, math.ceil(stream_slot_lease_seconds()))
        pipe.execute()
        return
    with _local_lock:
        _local_store(key, _local_slots(key, time.time()) | {slot: lapses_at})


def stream_slot_release(*, user_id: int, slot: str) -> None:
    """The stream has ended. A slot that cannot be given back (Redis down) lapses by itself."""
    key = _key(user_id)
    client = _redis()
    if client is not None:
        with contextlib.suppress(redis.RedisError, OSError):
            client.zrem(key, slot)
        return
    with _local_lock:
        slots = _local_slots(key, time.time())
        slots.pop(slot, None)
        _local_store(key, slots)
