"""What a provider adapter returns, and how it classifies a failed HTTP attempt for the retry loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from engine.providers.types import LLMRequest, TextFn, ToolCall

_MESSAGE_CHARS = 200


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    tool_calls: tuple[ToolCall, ...] = ()


class AttemptFailed(Exception):
    """One HTTP attempt failed. `transient` failures (429, 5xx, timeouts, connection) are retried."""

    def __init__(
        self, message: str, *, transient: bool, timeout: bool = False, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message[:_MESSAGE_CHARS]
        self.transient = transient
        self.timeout = timeout
        self.retry_after_s = retry_after_s


def status_failure(status: int, detail: str, headers: Mapping[str, str] | None) -> AttemptFailed:
    """Classify an HTTP error status the same way for every provider."""
    transient = status == 429 or status >= 500
    return AttemptFailed(
        f"HTTP {status}: {detail}".strip(),
        transient=transient,
        retry_after_s=parse_retry_after(headers) if transient else None,
    )


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is rare from APIs and is ignored."""
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class Provider(Protocol):
    name: str
    env_var: str

    def complete(self, request: LLMRequest, model: str, *, on_text: TextFn | None = None) -> Completion:
        """One streamed HTTP attempt, raising AttemptFailed on any failure (also after partial output).
        `on_text` hears each delta; the completion's text is their concatenation."""
        ...

    def list_models(self) -> list[str]:
        """The model ids the provider offers (a cheap call that proves the key), raising AttemptFailed."""
        ...
