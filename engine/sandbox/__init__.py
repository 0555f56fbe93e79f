"""Running users' Python and JavaScript in sandboxes: Deno with no permission, Pyodide inside it for Python.

`SandboxPool` (a `CodeRunner`) is what the Code node's `ExecutionContext.code` holds; the threat model is in
docs/security.md.
"""

from __future__ import annotations

from engine.sandbox.pool import SandboxPool, shared_code_runner
from engine.sandbox.process import SandboxUnavailable
from engine.sandbox.types import LANGUAGES, CodeAnswer, CodeJob, CodeRunner, SandboxConfig

__all__ = [
    "LANGUAGES",
    "CodeAnswer",
    "CodeJob",
    "CodeRunner",
    "SandboxConfig",
    "SandboxPool",
    "SandboxUnavailable",
    "shared_code_runner",
]
