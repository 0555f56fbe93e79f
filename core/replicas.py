"""Read replicas (DATABASE_REPLICA_URLS): what a signed-in user reads while the site answers a GET or HEAD
comes from a replica; everything else (writes, transactions, authentication, workers) from the primary.

Read-your-writes: a user whose request changed something (any other method) reads from the primary for
DATABASE_REPLICA_STICKY_SECONDS, counted in the shared cache so every web process knows. A replica that lags
the primary by more than DATABASE_REPLICA_MAX_LAG_SECONDS, or does not answer, is skipped until it catches up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD"})
# How long a measured lag is trusted: one query per replica per second per process, not one per request.
LAG_CHECK_INTERVAL_SECONDS = 1.0
_UNDECIDED = object()

_reading_request: ContextVar[HttpRequest | None] = ContextVar("weft_reading_request", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != DEFAULT_DB_ALIAS]


class _LagMonitor:
    """Each replica's lag behind the primary in seconds (inf when it does not answer), measured at most once
    per LAG_CHECK_INTERVAL_SECONDS per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._measured: dict[str, tuple[float, float]] = {}

    def lag(self, alias: str) -> float:
        now = time.monotonic()
        with self._lock:
            measured_at, lag = self._measured.get(alias, (-math.inf, math.inf))
        if now - measured_at < LAG_CHECK_INTERVAL_SECONDS:
            return lag
        lag = _measure_lag(alias)
        with self._lock:
            self._measured[alias] = (now, lag)
        return lag

    def forget(self) -> None:
        with self._lock:
            self._measured.clear()


def _measure_lag(alias: str) -> float:
    try:
        with connections[alias].cursor() as cursor:
            # Caught up when everything received is replayed; else as old as the last replayed commit.
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            )
            in_recovery, caught_up, since_last_replay = cursor.fetchone()
    except Exception as exc:
        logger.warning("read replica %s did not answer: %s", alias, exc)
        return math.inf
    if not in_recovery or caught_up:
        return 0.0
    return math.inf if since_last_replay is None else max(float(since_last_replay), 0.0)


lag_monitor = _LagMonitor()


def usable_replica() -> str | None:
    """The first replica within DATABASE_REPLICA_MAX_LAG_SECONDS, or None for the primary."""
    for alias in replica_aliases():
        if lag_monitor.lag(alias) <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
            return alias
    return None


def _sticky_key(user_id: Any) -> str:
    return f"db-sticky:{user_id}"


def _resolved_user(request: HttpRequest) -> Any:
    """The request's user once authentication has run, else None: the lookup that authenticates reads from
    the primary (a token or session created a moment ago may not have reached a replica)."""
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user


def _read_alias(request: HttpRequest) -> str | None:
    decided = request.__dict__.get("_weft_read_alias", _UNDECIDED)
    if decided is not _UNDECIDED:
        return decided
    user = _resolved_user(request)
    if user is None:
        return None
    alias = None
    if user.is_authenticated and not cache.get(_sticky_key(user.pk)):
        alias = usable_replica()
    request._weft_read_alias = alias
    return alias


def reads_from_replica() -> bool:
    """Whether the current request's reads come from a replica (so what it computes may lag the primary)."""
    request = _reading_request.get()
    return request is not None and request.__dict__.get("_weft_read_alias", _UNDECIDED) not in (
        None,
        _UNDECIDED,
    )


class ReplicaRouter:
    """Reads of a GET or HEAD request of a signed-in user go to a usable replica; all else to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        request = _reading_request.get()
        if request is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return _read_alias(request)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replicas hold the primary's data

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Marks the requests whose reads may go to a replica, and the users who just wrote (read-your-writes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reading = request.method in READ_METHODS
        token = _reading_request.set(request if reading else None)
        try:
            response = self.get_response(request)
        finally:
            _reading_request.reset(token)
        user = getattr(request, "user", None)
        if not reading and user is not None and user.is_authenticated:
            cache.set(_sticky_key(user.pk), True, timeout=settings.DATABASE_REPLICA_STICKY_SECONDS)
        return response


def describe_replicas() -> str:
    """For the health check: each replica's lag, and whether reads use it."""
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    parts = []
    for alias in replica_aliases():
        lag = lag_monitor.lag(alias)
        if math.isinf(lag):
            parts.append(f"{alias} not answering: skipped")
        elif lag > limit:
            parts.append(f"{alias} lagging {lag:.1f} s (over {limit:g} s): skipped")
        else:
            parts.append(f"{alias} ok (lag {lag:.1f} s)")
    return "; ".join(parts)
