"""A small pool of daemon worker threads for node runs, grown on demand.

Not `concurrent.futures.ThreadPoolExecutor`: a node that times out or is cancelled is abandoned
while its thread may still be blocked in an HTTP call. Such a thread must neither hold one of the
run's concurrency slots nor keep the interpreter from exiting, so workers here are daemon
threads and the coordinator (the only caller) spawns a new one whenever all existing ones are
busy, counting abandoned ones as busy until they report back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]


class WorkerPool:
    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._name = name
        self._workers = 0
        self.busy = 0  # jobs handed out and not yet reported done by the coordinator

    def submit(self, job: Job) -> None:
        if self.busy >= self._workers:
            self._workers += 1
            threading.Thread(target=self._serve, name=f"{self._name}-{self._workers}", daemon=True).start()
        self.busy += 1
        self._jobs.put(job)

    def job_done(self) -> None:
        """Called by the coordinator when it hears that a job finished (abandoned or not)."""
        self.busy -= 1

    def close(self) -> None:
        """Let every worker exit once it is idle; never waits for busy ones."""
        for _ in range(self._workers):
            self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()
