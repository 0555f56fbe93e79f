"""The per-run LLM caps (calls and tokens), as one thread-safe tally that a run shares with its child runs.

A Sub-workflow or Map node runs other workflows inside the parent's run; their model calls count against
the same caps, so a parent cannot multiply its allowance by calling itself out through children. Each
call reserves its most before it starts and settles to what it used afterwards, as in the executor.
"""

from __future__ import annotations

import threading


class LLMCaps:
    def __init__(self, *, max_calls: int | None, max_tokens: int | None) -> None:
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.calls = 0
        self.tokens = 0  # used by finished calls plus reserved by running ones
        self._lock = threading.Lock()

    def reserve(self, tokens: int) -> str | None:
        """Count one call that may use `tokens`, or say which cap it would cross (then nothing is counted)."""
        with self._lock:
            if self.max_calls is not None and self.calls >= self.max_calls:
                return f"LLM call cap of {self.max_calls} reached"
            if self.max_tokens is not None and self.tokens + tokens > self.max_tokens:
                remaining = max(0, self.max_tokens - self.tokens)
                return (
                    f"LLM token cap of {self.max_tokens} reached: this call may use {tokens} tokens "
                    f"and {remaining} remain"
                )
            self.calls += 1
            self.tokens += tokens
            return None

    def cancel(self, tokens: int) -> None:
        """Undo a reservation whose call never started (a budget or the output limit refused it)."""
        with self._lock:
            self.calls -= 1
            self.tokens -= tokens

    def settle(self, reserved: int, used: int) -> None:
        with self._lock:
            self.tokens += used - reserved
