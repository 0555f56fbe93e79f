"""Dramatiq middleware that runs the stale-run sweeper on a timer thread inside every worker process.

A killed worker's runs are found by their own heartbeat, and on the Redis broker the messages it had fetched
by its broker heartbeat: every worker process sweeps for both (runs.recovery.runs_recover_stale), instead of
waiting for Dramatiq's randomly scheduled maintenance.
Loaded by django_dramatiq before the apps are ready: nothing from Django models is imported at module level.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)


class RunRecoveryMiddleware(Middleware):
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._sweep_forever, name="weft-run-sweeper", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _sweep_forever(self) -> None:
        from django.conf import settings
        from django.db import close_old_connections, connections

        from runs.recovery import runs_recover_stale

        while not self._stop.wait(settings.RUN_SWEEP_INTERVAL_SECONDS):
            try:
                close_old_connections()
                runs_recover_stale()
            except Exception:
                # A database hiccup must not kill the sweeper; the next tick tries again.
                logger.exception("Sweeping stale runs failed")
            finally:
                connections.close_all()
