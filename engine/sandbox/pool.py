"""Sandboxes started ahead of need, per language, in this worker process.

Loading Pyodide takes seconds and running a job in a loaded one milliseconds, so each language keeps
`size` sandboxes loading or loaded. A job takes one, which is replaced at once (starting a process is quick;
it loads on its own) and ended after the job: no state crosses executions. A language's sandboxes are
started the first time the language is used, so a worker that runs no Python pays nothing for it.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
from collections import deque

from engine.sandbox.process import Sandbox, SandboxUnavailable
from engine.sandbox.types import LANGUAGES, CodeAnswer, CodeJob, SandboxConfig


class SandboxPool:
    """A `CodeRunner` backed by pre-started sandboxes; `size` 0 starts one per job."""

    def __init__(self, config: SandboxConfig, *, size: int) -> None:
        self.config = config
        self.size = size
        self._waiting: dict[str, deque[Sandbox]] = {language: deque() for language in LANGUAGES}
        self._lock = threading.Lock()
        self._closed = False
        # A forked child inherits this object (and its exit handlers) but not the sandboxes: only the
        # process that started them ends them.
        self._owner_pid = os.getpid()

    def run(self, job: CodeJob) -> CodeAnswer:
        if job.language not in LANGUAGES:
            return CodeAnswer(error_kind="unavailable", message=f"unknown language {job.language!r}")
        try:
            sandbox = self._take(job.language)
            try:
                sandbox.wait_ready()
            except SandboxUnavailable:
                # A waiting sandbox can die (its process killed from outside): one fresh try.
                sandbox = Sandbox(self.config, job.language)
                sandbox.wait_ready()
        except SandboxUnavailable as error:
            return CodeAnswer(error_kind="unavailable", message=str(error))
        return sandbox.execute(job)

    def warm(self, language: str) -> None:
        """Starts the language's sandboxes now, and waits until they have loaded."""
        self._refill(language)
        for sandbox in list(self._waiting[language]):
            sandbox.wait_ready()

    def close(self) -> None:
        if os.getpid() != self._owner_pid:
            return
        with self._lock:
            self._closed = True
            waiting = [sandbox for queue in self._waiting.values() for sandbox in queue]
            for queue in self._waiting.values():
                queue.clear()
        for sandbox in waiting:
            sandbox.close()

    def _take(self, language: str) -> Sandbox:
        with self._lock:
            sandbox = self._waiting[language].popleft() if self._waiting[language] else None
        if sandbox is None:
            sandbox = Sandbox(self.config, language)
        self._refill(language)
        return sandbox

    def _refill(self, language: str) -> None:
        with self._lock:
            while not self._closed and len(self._waiting[language]) < self.size:
                self._waiting[language].append(Sandbox(self.config, language))


_shared: dict[tuple[object, ...], SandboxPool] = {}
_shared_lock = threading.Lock()


def shared_code_runner(
    *, deno: str, pyodide_dir: str, memory_mb: int, max_timeout_s: float, max_print_bytes: int, pool_size: int
) -> SandboxPool:
    """This process's pool for these settings (a forked worker gets its own: pools hold child processes)."""
    key = (os.getpid(), deno, pyodide_dir, memory_mb, max_timeout_s, max_print_bytes, pool_size)
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None:
            config = SandboxConfig(
                deno=deno,
                pyodide_dir=pyodide_dir,
                work_dir=tempfile.mkdtemp(prefix="weft-sandbox-"),
                memory_mb=memory_mb,
                max_timeout_s=max_timeout_s,
                max_print_bytes=max_print_bytes,
            )
            pool = _shared[key] = SandboxPool(config, size=pool_size)
            atexit.register(pool.close)
        return pool
