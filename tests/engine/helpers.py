"""An in-memory LLM client for the executor tests."""

from __future__ import annotations

import threading
import time
from typing import Any

from engine import LLMRequest, LLMResponse, ProviderConfig, ProviderError
from tests.fakes.llm_server import FakeLLMServer


class ScriptedLLM:
    """An LLMClient whose behaviour is read from the prompt.

    "sleep:0.2 ..." sleeps that long, "fail ..." raises a provider error, "block ..." waits until
    `release()` (for timeouts and cancellation). Otherwise it answers "llm(<prompt>)". `answered` lists the
    prompts of calls that have returned, in order: a run that ends with a "block" call not in it did not
    wait for that call. `most_in_flight` is the largest number of calls it was answering at once.
    """

    def __init__(self) -> None:
        self.calls: list[LLMRequest] = []
        self.threads: set[str] = set()
        self.answered: list[str] = []
        self.most_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def generate(self, request: LLMRequest, *, log: Any = None, stream: Any = None) -> LLMResponse:
        with self._lock:
            self.calls.append(request)
            self.threads.add(threading.current_thread().name)
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            return self._answer(request, log)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, request: LLMRequest, log: Any) -> LLMResponse:
        prompt = request.prompt
        if prompt.startswith("sleep:"):
            time.sleep(float(prompt.split()[0].removeprefix("sleep:")))
        elif prompt.startswith("fail"):
            raise ProviderError("provider_error", "gemini rejected the request: HTTP 400", attempts=1)
        elif prompt.startswith("block"):
            self._released.wait(60)
        with self._lock:
            self.answered.append(prompt)
        if log:
            log("info", f"answered {prompt[:20]}")
        return LLMResponse(
            text=f"llm({prompt})",
            provider="gemini",
            model=request.model or "gemini-2.5-flash",
            attempts=1,
            input_tokens=len(prompt.split()),
            output_tokens=2,
        )


def config_for(server: FakeLLMServer, **overrides) -> ProviderConfig:
    """Both providers on the fake server, with quick retries."""
    settings = {
        "gemini_api_key": "gem-key",
        "groq_api_key": "groq-key",
        "gemini_base_url": server.url,
        "groq_base_url": server.url,
        "timeout_s": 2.0,
        "max_attempts": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    settings.update(overrides)
    return ProviderConfig(**settings)
