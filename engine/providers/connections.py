"""Providers for connections: which SDK adapter a connection's kind uses, built once per process."""

from __future__ import annotations

import os
import threading

from engine.providers.base import Provider
from engine.providers.config import ConnectionConfig
from engine.providers.gemini import GeminiProvider
from engine.providers.groq import GroqProvider
from engine.providers.openai_compat import OpenAICompatibleProvider

MODEL_CONNECTION_KINDS = ("gemini", "groq", "openai")
# Building an SDK client costs 100-200 ms of CPU; a process keeps this many, the oldest dropped first.
_MAX_CACHED = 256

_lock = threading.Lock()
_cache: dict[tuple[int, ConnectionConfig, float], Provider] = {}


def build_provider(connection: ConnectionConfig, *, timeout_s: float) -> Provider:
    if connection.kind == "gemini":
        return GeminiProvider(api_key=connection.api_key, base_url=connection.base_url, timeout_s=timeout_s)
    if connection.kind == "groq":
        return GroqProvider(api_key=connection.api_key, base_url=connection.base_url, timeout_s=timeout_s)
    if connection.kind == "openai":
        return OpenAICompatibleProvider(
            api_key=connection.api_key,
            base_url=connection.base_url,
            timeout_s=timeout_s,
            headers=dict(connection.headers),
            name="openai",
        )
    raise ValueError(f"a {connection.kind} connection does not call models")


def provider_for(connection: ConnectionConfig, *, timeout_s: float) -> Provider:
    """This process's provider for `connection` (a forked child builds its own connection pools)."""
    key = (os.getpid(), connection, timeout_s)
    with _lock:
        provider = _cache.get(key)
        if provider is None:
            if len(_cache) >= _MAX_CACHED:
                del _cache[next(iter(_cache))]
            provider = _cache[key] = build_provider(connection, timeout_s=timeout_s)
        return provider
