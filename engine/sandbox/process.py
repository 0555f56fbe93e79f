"""One sandbox: a Deno process started ahead of its job, given one execution, then ended.

The process gets no permission but reading Pyodide's own folder (Python) or nothing at all (JavaScript),
an empty environment and a private working folder. Its V8 heap is capped by a flag; the parent also ends
it when its resident memory grows past the limit (WebAssembly memory is outside V8's heap), when the job
runs past its wall time, or when it writes more than its output allowance.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.sandbox.types import CodeAnswer, CodeJob, SandboxConfig

_SCRIPTS = Path(__file__).resolve().parent
# How often the parent looks at a running job's memory and clock.
_WATCH_INTERVAL_S = 0.02
# Kept of a crashed sandbox's stderr, for the worker's log.
_STDERR_KEPT_BYTES = 4096
# Room in the answer line beyond the printed text and the result (its keys, JSON escaping).
_ANSWER_OVERHEAD_BYTES = 64 * 1024
# The answer line when the job sets no result limit.
_UNLIMITED_RESULT_BYTES = 64 * 1024 * 1024
_DENIED = (
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    "--cached-only",
    "--deny-import",
    "--deny-net",
    "--deny-env",
    "--deny-run",
    "--deny-ffi",
    "--deny-write",
    "--deny-sys",
)


class SandboxUnavailable(Exception):
    """The sandbox could not be started or did not load (Deno or Pyodide missing or broken)."""


def deno_command(config: SandboxConfig, language: str) -> list[str]:
    flags = [config.deno, "run", *_DENIED, f"--v8-flags=--max-old-space-size={config.memory_mb}"]
    if language == "javascript":
        return [*flags, "--deny-read", str(_SCRIPTS / "sandbox_js.js")]
    pyodide = str(Path(config.pyodide_dir).resolve())
    return [
        *flags,
        "--unstable-detect-cjs",
        f"--allow-read={pyodide}",
        str(_SCRIPTS / "sandbox_python.js"),
        pyodide,
    ]


def resident_bytes(pid: int) -> int | None:
    """The process's resident memory, or None where /proc does not tell (then only V8's own cap holds)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def check_available(config: SandboxConfig, language: str) -> None:
    if not os.access(config.deno, os.X_OK):
        raise SandboxUnavailable(f"Deno is not installed at {config.deno} (run `make install`)")
    if language == "python" and not (Path(config.pyodide_dir) / "pyodide.mjs").is_file():
        raise SandboxUnavailable(f"Pyodide is not installed in {config.pyodide_dir} (run `make install`)")


@dataclass
class _Stream:
    limit: int
    data: bytearray
    closed: bool = False

    @property
    def over(self) -> bool:
        return len(self.data) > self.limit


class Sandbox:
    """A started sandbox process for one language; `execute` may be called once."""

    def __init__(self, config: SandboxConfig, language: str) -> None:
        check_available(config, language)
        self.config = config
        self.language = language
        Path(config.work_dir).mkdir(parents=True, exist_ok=True)
        # Its own folder, removed with it: Deno keeps web storage there, which must not outlive one job.
        self.folder = tempfile.mkdtemp(prefix="sandbox-", dir=config.work_dir)
        try:
            # The command is built here from settings, never from the code it will run.
            self.process = subprocess.Popen(  # noqa: S603
                deno_command(config, language),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.folder,
                # Never the worker's environment: Deno's own cache folder and nothing else.
                env={"DENO_DIR": self.folder, "NO_COLOR": "1", "DENO_NO_UPDATE_CHECK": "1"},
                start_new_session=True,
                close_fds=True,
            )
        except OSError as error:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise SandboxUnavailable(f"the sandbox did not start: {error}") from error
        self._stdout = _Stream(limit=len(b"ready\n"), data=bytearray())
        self._stderr = _Stream(limit=_STDERR_KEPT_BYTES, data=bytearray())
        self._ready = False
        self._baseline_rss = 0

    def wait_ready(self) -> None:
        """Blocks until the sandbox has loaded (Pyodide takes seconds cold); raises SandboxUnavailable."""
        if self._ready:
            return
        deadline = time.monotonic() + self.config.start_timeout_s
        while b"\n" not in self._stdout.data:
            if self._stdout.closed or time.monotonic() > deadline:
                self.close()
                detail = bytes(self._stderr.data).decode("utf-8", "replace").strip()[-500:]
                raise SandboxUnavailable(f"the {self.language} sandbox did not load: {detail or 'no answer'}")
            self._pump(deadline)
        self._stdout.data.clear()
        self._ready = True
        self._baseline_rss = resident_bytes(self.process.pid) or 0

    def execute(self, job: CodeJob) -> CodeAnswer:
        self.wait_ready()
        result_bytes = job.max_result_bytes if job.max_result_bytes is not None else _UNLIMITED_RESULT_BYTES
        # JSON may escape each printed or result byte into as many as six (\u0000).
        self._stdout.limit = 6 * (self.config.max_print_bytes + result_bytes) + _ANSWER_OVERHEAD_BYTES
        line = json.dumps(
            {"code": job.code, "inputs": job.inputs, "maxPrintBytes": self.config.max_print_bytes}
        )
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line.encode("utf-8") + b"\n")
            self.process.stdin.close()
        except OSError:
            return self._ended_without_answer()
        timeout_s = min(job.timeout_s, self.config.max_timeout_s)
        deadline = time.monotonic() + timeout_s
        memory_limit = self._baseline_rss + self.config.memory_mb * 1024 * 1024
        try:
            while not self._stdout.closed:
                if time.monotonic() > deadline:
                    return CodeAnswer(
                        error_kind="timeout", message=f"the code ran longer than {timeout_s:g} s"
                    )
                if self._stdout.over:
                    return CodeAnswer(
                        error_kind="output_limit", message="the code wrote more output than allowed"
                    )
                rss = resident_bytes(self.process.pid)
                if rss is not None and rss > memory_limit:
                    return _memory_answer(self.config)
                self._pump(deadline)
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return CodeAnswer(error_kind="timeout", message=f"the code ran longer than {timeout_s:g} s")
        finally:
            self.close()
        return self._answer()

    def close(self) -> None:
        """Ends the process and everything it started; safe to call more than once."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pump(self, deadline: float) -> None:
        """Reads what is waiting on stdout and stderr, waiting at most one watch interval."""
        streams = {self.process.stdout: self._stdout, self.process.stderr: self._stderr}
        with selectors.DefaultSelector() as selector:
            for pipe, stream in streams.items():
                if pipe is not None and not stream.closed:
                    selector.register(pipe, selectors.EVENT_READ, stream)
            if not selector.get_map():
                return
            wait = min(_WATCH_INTERVAL_S, max(0.0, deadline - time.monotonic()))
            for key, _ in selector.select(wait):
                stream = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    stream.closed = True
                elif stream is self._stderr:
                    stream.data += chunk[: max(0, stream.limit - len(stream.data))]
                else:
                    stream.data += chunk

    def _answer(self) -> CodeAnswer:
        lines = bytes(self._stdout.data).rstrip(b"\n").rsplit(b"\n", 1)
        try:
            answer: dict[str, Any] = json.loads(lines[-1])
        except (ValueError, UnicodeDecodeError):
            return self._ended_without_answer()
        printed = str(answer.get("printed") or "")
        if answer.get("ok"):
            return CodeAnswer(value=json.loads(answer["json"]), printed=printed)
        kind = answer.get("error")
        if kind == "memory":
            return _memory_answer(self.config, printed=printed)
        if kind == "output_limit":
            message = f"the code printed more than {self.config.max_print_bytes:,} bytes"
            return CodeAnswer(error_kind="output_limit", message=message, printed=printed)
        traceback = str(answer.get("traceback") or "the code failed")
        line = answer.get("line") if isinstance(answer.get("line"), int) else None
        return CodeAnswer(error_kind="error", message=traceback, line=line, printed=printed)

    def _ended_without_answer(self) -> CodeAnswer:
        # V8 ends the process when its heap limit is reached, which is the one way a sandbox that loaded
        # dies on its own.
        self.close()
        return _memory_answer(self.config)


def _memory_answer(config: SandboxConfig, *, printed: str = "") -> CodeAnswer:
    return CodeAnswer(
        error_kind="memory",
        message=f"the code used more than {config.memory_mb} MB of memory",
        printed=printed,
    )
