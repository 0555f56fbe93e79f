"""What a node of any kind does when it fails: its `data` fields `onError`, `errorValue`, `retry` and
`timeoutSeconds`, read once per node into an `ErrorHandling`, and the `error` port `onError: branch` adds.

`fail` (the default) fails the node and skips what needs it; `continue` gives each of its outputs
`errorValue` and the run goes on; `branch` gives only its `error` output a value (`{kind, message,
attempts, node}`), so what needs its other outputs is skipped as a branch not taken, and on success the
error port is the branch not taken. A handled failure is recorded as `failed` with `handled` set and does
not fail the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.ports import Port

ON_ERROR = ("fail", "continue", "branch")
MAX_ATTEMPTS = 10
ERROR_PORT_NAME = "error"
ERROR_PORT = Port(ERROR_PORT_NAME, "json", when={"field": "onError", "equals": "branch"})
_FIELDS = ("onError", "errorValue", "retry", "timeoutSeconds")
_RETRY_KEYS = {"maxAttempts", "backoffSeconds", "backoffMultiplier"}

# The properties every kind's data schema gets (NodeKind.full_schema). No defaults: a node that sets none
# of them keeps the content key it had, and costs nothing more to run.
SCHEMA_PROPERTIES: dict[str, dict[str, Any]] = {
    "onError": {"type": "string", "enum": list(ON_ERROR), "title": "On error"},
    "errorValue": {
        "type": ["string", "number", "boolean", "null", "object", "array"],
        "title": "Error value (JSON, with onError: continue)",
    },
    "retry": {"type": ["object", "null"], "title": "Retry {maxAttempts, backoffSeconds, backoffMultiplier}"},
    "timeoutSeconds": {"type": ["number", "null"], "minimum": 0.001, "title": "Timeout (seconds)"},
}


@dataclass(frozen=True)
class ErrorHandling:
    on_error: str = "fail"
    error_value: Any = None
    max_attempts: int = 1
    backoff_s: float = 0.0
    backoff_multiplier: float = 1.0
    timeout_s: float | None = None  # None: the run's node timeout

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt `failed_attempt` (1-based) before the next one."""
        return self.backoff_s * self.backoff_multiplier ** (failed_attempt - 1)

    def outputs_on_failure(self, ports: tuple[Port, ...], error: dict[str, Any]) -> dict[str, Any]:
        """What a handled failure gives the node's outputs."""
        if self.on_error == "branch":
            return {ERROR_PORT_NAME: error}
        return {port.name: self.error_value for port in ports if port.name != ERROR_PORT_NAME}


NO_HANDLING = ErrorHandling()


def error_handling(data: Mapping[str, Any]) -> ErrorHandling:
    """The node's error handling from its (validated) data; NO_HANDLING when it sets none of the fields."""
    if not any(name in data for name in _FIELDS):
        return NO_HANDLING
    retry = data.get("retry") if isinstance(data.get("retry"), Mapping) else {}
    timeout = data.get("timeoutSeconds")
    return ErrorHandling(
        on_error=data.get("onError") or "fail",
        error_value=data.get("errorValue"),
        max_attempts=int(retry.get("maxAttempts") or 1),
        backoff_s=float(retry.get("backoffSeconds") or 0.0),
        backoff_multiplier=float(retry.get("backoffMultiplier") or 1.0),
        timeout_s=float(timeout) if timeout is not None else None,
    )


def handling_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with `retry` beyond its type, as (data property, message) pairs."""
    retry = data.get("retry")
    if not isinstance(retry, Mapping):
        return []
    problems = [(f"retry.{key}", "is not a retry setting") for key in retry if key not in _RETRY_KEYS]
    attempts = retry.get("maxAttempts", 1)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= MAX_ATTEMPTS:
        problems.append(("retry.maxAttempts", f"must be an integer from 1 to {MAX_ATTEMPTS}"))
    for key, lowest in (("backoffSeconds", 0), ("backoffMultiplier", 1)):
        value = retry.get(key, lowest)
        if not isinstance(value, int | float) or isinstance(value, bool) or not lowest <= value <= 3600:
            problems.append((f"retry.{key}", f"must be a number from {lowest} to 3600"))
    return problems
