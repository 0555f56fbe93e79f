"""Provider settings: keys, base URLs (for proxies and the test fake), timeouts and retry policy."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_FALLBACK_MODEL = "llama-3.3-70b-versatile"
DEFAULT_FALLBACK_VISION_MODEL = "meta-llama/llama-4-scout-17b-16e-instruct"


@dataclass(frozen=True)
class ProviderConfig:
    """Base URLs None mean the public endpoints. A provider without a key is simply not used."""

    gemini_api_key: str | None = None
    groq_api_key: str | None = None
    gemini_base_url: str | None = None
    groq_base_url: str | None = None
    timeout_s: float = 60.0
    max_attempts: int = 3  # per provider
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    default_model: str = DEFAULT_MODEL
    fallback_model: str = DEFAULT_FALLBACK_MODEL
    fallback_vision_model: str = DEFAULT_FALLBACK_VISION_MODEL


@dataclass(frozen=True)
class ConnectionConfig:
    """One place models are called, as the app hands it over: a site connection or a user's own.

    `refusal` says why the connection may not be called now (its URL reaches a refused address); the
    client fails a node that uses it with that reason. The key and headers stay out of every repr.
    """

    slug: str
    kind: str  # "gemini" | "groq" | "openai"
    api_key: str = field(repr=False)
    base_url: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    local: bool = False
    refusal: str | None = None
