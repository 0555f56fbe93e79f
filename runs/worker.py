"""The in-process Dramatiq worker: without a broker URL, runs execute inside the web process.

With settings.WEFT_INPROCESS_WORKER (default when neither REDIS_URL nor DRAMATIQ_BROKER_URL is set) the
broker is Dramatiq's StubBroker, which only a worker in the same process can serve. One worker is
started per process: at server start (runs.apps) and, as a safety net, on the first enqueue.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

import dramatiq
from django.conf import settings
from dramatiq.brokers.stub import StubBroker

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_worker: dramatiq.Worker | None = None


def is_serving_process(argv: list[str] | None = None) -> bool:
    """True in the process that serves requests: not in migrate & co, nor in runserver's reloader parent."""
    argv = sys.argv if argv is None else argv
    # The whole path: `python -m gunicorn` / `python -m uvicorn` run .../gunicorn/__main__.py.
    program = argv[0] if argv else ""
    if any(server in program for server in ("gunicorn", "uwsgi", "uvicorn")):
        return True
    if len(argv) > 1 and argv[1] == "runserver":
        return os.environ.get("RUN_MAIN") == "true" or "--noreload" in argv
    return False


def inprocess_worker_ensure() -> dramatiq.Worker | None:
    global _worker
    if not settings.WEFT_INPROCESS_WORKER:
        return None
    broker = dramatiq.get_broker()
    if not isinstance(broker, StubBroker):
        return None
    with _lock:
        if _worker is None:
            import runs.tasks  # noqa: F401  (declares the actors on the broker)

            broker.emit_after("process_boot")
            _worker = dramatiq.Worker(broker, worker_threads=settings.WEFT_INPROCESS_WORKER_THREADS)
            _worker.start()
            logger.info("in-process Dramatiq worker started (no broker URL configured)")
    return _worker


def inprocess_worker_alive() -> bool:
    """True while this process's in-process worker takes messages and runs them (all its threads live)."""
    worker = _worker
    if worker is None:
        return False
    threads = [*worker.consumers.values(), *worker.workers]
    return bool(threads) and all(thread.is_alive() for thread in threads)
