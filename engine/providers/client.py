"""The LLM client the engine uses: a request's model chain (or Gemini then Groq), with retries and backoff.

A request with `models` names each entry `<connection slug>/<model id>`; every connection is resolved
before any call, so a chain naming a missing connection fails at once (kind `connection_missing`).

Policy, per entry in order:
- 429, 5xx, timeouts and connection errors are retried up to `max_attempts` times with
  exponential backoff and jitter; a Retry-After header (capped by `backoff_max_s`) replaces the
  computed delay. When the attempts run out, the next provider is tried.
- Any other 4xx fails the call at once, without falling back: the request itself (or the key)
  is wrong, and quietly answering from another provider would hide a configuration problem.
- A provider without an API key is skipped; with no key at all the call fails naming both
  variables.
- Answers are streamed: each attempt's text goes to the caller's `TextStream` as it arrives, and an
  attempt that fails after some output is followed by `stream.reset()` before anything else is tried.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence

from engine.providers.base import AttemptFailed, Provider
from engine.providers.config import ConnectionConfig, ProviderConfig
from engine.providers.connections import provider_for
from engine.providers.types import LLMRequest, LLMResponse, LogFn, ProviderError, TextStream


class FallbackLLMClient:
    """An `LLMClient` over an ordered list of providers. Thread-safe: the SDK clients are."""

    def __init__(
        self,
        config: ProviderConfig,
        providers: list[Provider],
        *,
        sleep: Callable[[float], None] = time.sleep,
        connections: Sequence[ConnectionConfig] = (),
    ) -> None:
        self.config = config
        self.providers = providers
        self.connections = {connection.slug: connection for connection in connections}
        self._sleep = sleep

    def generate(
        self, request: LLMRequest, *, log: LogFn | None = None, stream: TextStream | None = None
    ) -> LLMResponse:
        say = log or (lambda level, message: None)
        left_out: list[str] = []
        if request.models:
            references = list(request.models)
            if request.skip_missing_connections:
                configured = [ref for ref in references if ref.partition("/")[0] in self.connections]
                left_out = [ref.partition("/")[0] for ref in references if ref not in configured]
                references = configured or references[:1]  # none configured: fail naming the first
            routes = [self._route(reference) for reference in references]
        elif self.providers:
            references = []
            routes = [(provider, self._model_for(provider, request)) for provider in self.providers]
        else:
            raise ProviderError(
                "configuration", "no LLM provider is configured: set GEMINI_API_KEY or GROQ_API_KEY"
            )
        attempts = 0
        failures: list[str] = []
        last: AttemptFailed | None = None
        for index, (provider, model) in enumerate(routes):
            for attempt in range(1, self.config.max_attempts + 1):
                attempts += 1
                attempt_stream = _AttemptStream(stream)
                try:
                    completion = provider.complete(request, model, on_text=attempt_stream.delta)
                except AttemptFailed as failure:
                    attempt_stream.discard()
                    last = failure
                    if not failure.transient:
                        raise ProviderError(
                            "provider_error",
                            f"{provider.name} rejected the request: {failure.message}",
                            attempts=attempts,
                            provider=provider.name,
                            model=model,
                        ) from failure
                    if attempt == self.config.max_attempts:
                        failures.append(
                            f"{provider.name} {model}: {failure.message} after {attempt} attempts"
                        )
                        break
                    delay = self._delay(attempt, failure.retry_after_s)
                    say("warning", f"{provider.name} {model}: {failure.message}; retrying in {delay:.2f} s")
                    self._sleep(delay)
                else:
                    return LLMResponse(
                        text=completion.text,
                        provider=provider.name,
                        model=model,
                        attempts=attempts,
                        input_tokens=completion.input_tokens,
                        output_tokens=completion.output_tokens,
                        tool_calls=completion.tool_calls,
                        reference=references[index] if request.models else None,
                    )
            if index + 1 < len(routes):
                following = references[index + 1] if request.models else routes[index + 1][0].name
                say("warning", f"{failures[-1]}; falling back to {following}")
        message = "; ".join(failures)
        if not request.models and len(self.providers) == 1:
            missing = "GROQ_API_KEY" if self.providers[0].name == "gemini" else "GEMINI_API_KEY"
            message += f" (no fallback: {missing} is not set)"
        elif left_out:
            names = ", ".join(repr(slug) for slug in dict.fromkeys(left_out))
            message += f" (no fallback: no connection named {names})"
        assert last is not None  # the loop ran at least once and every path above recorded a failure
        raise ProviderError(
            "timeout" if last.timeout else "provider_error",
            message,
            attempts=attempts,
            provider=routes[-1][0].name,
            model=routes[-1][1],
        )

    def _route(self, reference: str) -> tuple[Provider, str]:
        """The provider and model id a chain entry names."""
        slug, _, model = reference.partition("/")
        if not slug or not model:
            raise ProviderError("invalid_model", f"{reference!r} is not a model reference (connection/model)")
        connection = self.connections.get(slug)
        if connection is None:
            raise ProviderError(
                "connection_missing", f"no connection named {slug!r} (for {reference})", model=reference
            )
        if connection.refusal:
            raise ProviderError(
                "connection_refused", f"connection {slug!r} is refused: {connection.refusal}", model=reference
            )
        return provider_for(connection, timeout_s=self.config.timeout_s), model

    def _model_for(self, provider: Provider, request: LLMRequest) -> str:
        if provider.name == "gemini":
            return request.model or self.config.default_model
        # Groq's text models reject images, so image requests default to its vision model.
        if request.fallback_model:
            return request.fallback_model
        return self.config.fallback_vision_model if request.images else self.config.fallback_model

    def _delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self.config.backoff_max_s)
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        # "Equal jitter": at least half the exponential delay, so retries still back off.
        return random.uniform(ceiling / 2, ceiling)


def build_llm_client(
    config: ProviderConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    connections: Sequence[ConnectionConfig] = (),
) -> FallbackLLMClient:
    """Model chains over `connections`; requests without a chain go to Gemini then Groq, each only if its
    API key is set."""
    site_keys = [
        ConnectionConfig("gemini", "gemini", config.gemini_api_key or "", config.gemini_base_url),
        ConnectionConfig("groq", "groq", config.groq_api_key or "", config.groq_base_url),
    ]
    site_keys = [connection for connection in site_keys if connection.api_key]
    providers = [provider_for(connection, timeout_s=config.timeout_s) for connection in site_keys]
    # The keys of the configuration are the site connections `gemini` and `groq`; given ones shadow them.
    connections = [*site_keys, *connections]
    return FallbackLLMClient(config, providers, sleep=sleep, connections=connections)


_shared_lock = threading.Lock()
_shared: tuple[int, ProviderConfig, FallbackLLMClient] | None = None


def shared_llm_client(config: ProviderConfig) -> FallbackLLMClient:
    """This process's client for `config`: built once, rebuilt only when the settings change.

    Building the Gemini and Groq SDK clients costs 100-200 ms of CPU (pydantic models, HTTP pools), more
    than a whole small run; their HTTP connections are worth keeping too. The SDK clients are thread-safe,
    so every run of the process shares one. A forked child (a gunicorn or Dramatiq worker) builds its own
    rather than inherit its parent's connection pools.
    """
    global _shared
    pid = os.getpid()
    with _shared_lock:
        if _shared is None or _shared[0] != pid or _shared[1] != config:
            _shared = (pid, config, build_llm_client(config))
        return _shared[2]


class _AttemptStream:
    """Forwards one attempt's text to the caller's stream, and takes it back if the attempt fails."""

    def __init__(self, stream: TextStream | None) -> None:
        self.stream = stream
        self.sent = False

    def delta(self, text: str) -> None:
        if self.stream is not None:
            self.sent = True
            self.stream.delta(text)

    def discard(self) -> None:
        if self.sent and self.stream is not None:
            self.stream.reset()
