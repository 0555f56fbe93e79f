"""What a Code node asks of a sandbox and what it gets back, and the `CodeRunner` interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

LANGUAGES = ("python", "javascript")


@dataclass(frozen=True)
class SandboxConfig:
    """Where Deno and Pyodide are, and the limits every execution runs under.

    `work_dir` is a private folder of the worker: each sandbox gets a folder in it for Deno's own files,
    removed with the sandbox (the sandboxed code can read and write none of them). `memory_mb` bounds the
    memory the code may add to a loaded sandbox; `max_timeout_s` the wall time any job may ask for;
    `max_print_bytes` what it may print.
    """

    deno: str
    pyodide_dir: str
    work_dir: str
    memory_mb: int = 256
    max_timeout_s: float = 30.0
    max_print_bytes: int = 64 * 1024
    start_timeout_s: float = 60.0


@dataclass(frozen=True)
class CodeJob:
    language: str
    code: str
    inputs: dict[str, Any]
    timeout_s: float
    max_result_bytes: int | None = None


@dataclass(frozen=True)
class CodeAnswer:
    """How an execution ended. `error_kind` is None (it returned `value`), "error" (`message` is the user's
    traceback, `line` the line of their code it points at), "timeout", "memory", "output_limit" or
    "unavailable" (no sandbox could be started)."""

    value: Any = None
    printed: str = ""
    error_kind: str | None = None
    message: str = ""
    line: int | None = None


class CodeRunner(Protocol):
    """Runs one job in a fresh sandbox: nothing of an earlier job is visible to it."""

    def run(self, job: CodeJob) -> CodeAnswer: ...
