"""The scheduler loop: `manage.py runscheduler`, and a thread beside the in-process worker of `make run`.

Why a loop of our own rather than dramatiq-crontab: a periodic Dramatiq task needs a broker and one
process that owns the clock, while this claims due rows with SELECT ... FOR UPDATE SKIP LOCKED, so any
number of schedulers (or none but the web process) can run, and it works on SQLite without a broker.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from runs.worker import is_serving_process
from triggers.services import schedules_fire_due

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_thread: threading.Thread | None = None


def scheduler_tick() -> int:
    """Fire what is due now; returns how many schedules fired. Never raises (the loop must go on)."""
    try:
        fired = schedules_fire_due()
    except Exception:
        logger.exception("scheduler tick failed")
        return 0
    if fired:
        logger.info("scheduler fired %d schedule(s)", len(fired))
    return len(fired)


def scheduler_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        # A long-lived loop outside the request cycle: drop connections the database has closed.
        close_old_connections()
        scheduler_tick()
        stop.wait(settings.SCHEDULER_TICK_SECONDS)
    connection.close()


def inprocess_scheduler_ensure() -> threading.Thread | None:
    """With the in-process worker, tick schedules in the serving process too (one thread per process)."""
    global _thread
    if not (settings.WEFT_INPROCESS_WORKER and is_serving_process()):
        return None
    with _lock:
        if _thread is None:
            _thread = threading.Thread(
                target=scheduler_loop, args=(threading.Event(),), name="weft-scheduler", daemon=True
            )
            _thread.start()
            logger.info("in-process scheduler started (ticks every %g s)", settings.SCHEDULER_TICK_SECONDS)
    return _thread
