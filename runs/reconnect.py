"""Riding out a database restart: the run-progress queries of a worker (its claim's checks, heartbeat,
results, budget holds, callee lookups) reconnect instead of failing the run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

# A database restart (pg_ctl restart, a failover) takes a few seconds; a run in flight rides it out
# instead of stopping and waiting RUN_STALE_AFTER_SECONDS for the sweeper.
# Waits double from 0.1 s to 2 s: about 5 s in all, and a brief SQLite lock costs only a tenth of a second.
DB_RECONNECT_ATTEMPTS = 7
DB_RECONNECT_FIRST_WAIT_SECONDS = 0.1
DB_RECONNECT_MAX_WAIT_SECONDS = 2.0

logger = logging.getLogger(__name__)
T = TypeVar("T")


def reconnecting(query: Callable[[], T]) -> T:
    """Run a run-progress query, reconnecting while the database comes back from a restart.

    Only outside a transaction: inside one, a new connection would silently lose the transaction's work.
    """
    for attempt in range(1, DB_RECONNECT_ATTEMPTS + 1):
        try:
            return query()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or attempt == DB_RECONNECT_ATTEMPTS:
                raise
            logger.warning("database connection lost; reconnecting (attempt %d)", attempt)
            connection.close()
            wait = DB_RECONNECT_FIRST_WAIT_SECONDS * 2 ** (attempt - 1)
            time.sleep(min(wait, DB_RECONNECT_MAX_WAIT_SECONDS))
    raise AssertionError("unreachable")
