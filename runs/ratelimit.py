"""The run-start budgets: per user (EXECUTE_RATE_LIMIT) and per webhook (WEBHOOK_RATE_LIMIT).

Fixed windows counted in the shared cache, so every process sees the same budget; rates are written as
django-ratelimit's (`10/m`, `100/h`, `5/30s`) and RATELIMIT_ENABLE turns them off as it does. On Redis a
count is one round trip (a script that increments and, for a window's first request, sets the expiry),
where django-ratelimit's `add` then `incr` took two. Every way of starting a run counts against its owner's
budget: the API, webhooks and schedules.
"""

from __future__ import annotations

import re
import time
import zlib
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache

from core.errors import RunRefused

USER_GROUP = "runs.execute"
WEBHOOK_GROUP = "runs.webhook"
_RATE = re.compile(r"(\d+)/(\d*)([smhd])?$")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A window's key outlives its window a little, so that a clock a second behind still finds it.
_EXPIRY_FUDGE_SECONDS = 5
# INCR creates the key at 1; only then is its expiry set, in the same atomic step, so no key lives forever.
_INCR_WITH_EXPIRY = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_incr_with_expiry: Any = None


class RunRateLimited(RunRefused):
    http_status = 429
    code = "rate_limited"


def _split_rate(rate: str) -> tuple[int, int]:
    """`10/m` -> (10, 60); `5/30s` -> (5, 30)."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"not a rate: {rate!r} (write it as 10/m, 100/h or 5/30s)")
    limit, multiple, unit = match.groups()
    return int(limit), _PERIOD_SECONDS[unit or "s"] * int(multiple or 1)


def _window_end(value: str, period: int, now: int) -> int:
    # Each key's windows are offset by a hash of it, so that not every budget renews at the same second.
    end = now - now % period + zlib.crc32(value.encode()) % period
    return end + period if end <= now else end


def _increment(key: str, ttl_seconds: int) -> int:
    """The window's count after adding this request, atomically across processes."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        global _incr_with_expiry
        client = cache.client.get_client(write=True)
        if _incr_with_expiry is None:
            # Registered once per process: later counts send EVALSHA, not the script's text.
            _incr_with_expiry = client.register_script(_INCR_WITH_EXPIRY)
        return int(
            _incr_with_expiry(
                keys=[cache.make_and_validate_key(key)], args=[ttl_seconds * 1000], client=client
            )
        )
    # The embedded cache lives in this process, whose lock makes add-then-incr atomic enough; incr fails
    # only if the key expired in between, and then this request opens the next window.
    cache.add(key, 0, ttl_seconds)
    try:
        return cache.incr(key)
    except ValueError:
        cache.add(key, 1, ttl_seconds)
        return 1


def _count(group: str, value: str, rate: str, what: str) -> None:
    if not settings.RATELIMIT_ENABLE:
        return
    limit, period = _split_rate(rate)
    now = int(time.time())
    window_end = _window_end(value, period, now)
    count = _increment(f"rl:{group}:{value}:{window_end}", period + _EXPIRY_FUDGE_SECONDS)
    if count > limit:
        raise RunRateLimited(f"Rate limit of {rate} {what} exceeded.", retry_after=max(1, window_end - now))


def run_rate_limit_count(*, owner_id: int) -> None:
    """Count one run request of this user; RunRateLimited once over EXECUTE_RATE_LIMIT."""
    _count(USER_GROUP, f"user:{owner_id}", settings.EXECUTE_RATE_LIMIT, "run requests")


def webhook_rate_limit_count(*, webhook_id: str) -> None:
    """Count one call of this webhook; RunRateLimited once over WEBHOOK_RATE_LIMIT."""
    _count(WEBHOOK_GROUP, f"webhook:{webhook_id}", settings.WEBHOOK_RATE_LIMIT, "calls of this webhook")
