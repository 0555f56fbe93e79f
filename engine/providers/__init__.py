"""LLM providers (Gemini, Groq, OpenAI-compatible) and model chains over connections, behind `LLMClient`."""

from engine.providers.client import FallbackLLMClient, build_llm_client, shared_llm_client
from engine.providers.config import (
    DEFAULT_FALLBACK_MODEL,
    DEFAULT_FALLBACK_VISION_MODEL,
    DEFAULT_MODEL,
    ConnectionConfig,
    ProviderConfig,
)
from engine.providers.connections import MODEL_CONNECTION_KINDS, provider_for
from engine.providers.types import LLMClient, LLMRequest, LLMResponse, ProviderError, TextStream

__all__ = [
    "DEFAULT_FALLBACK_MODEL",
    "DEFAULT_FALLBACK_VISION_MODEL",
    "DEFAULT_MODEL",
    "MODEL_CONNECTION_KINDS",
    "ConnectionConfig",
    "FallbackLLMClient",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "ProviderConfig",
    "ProviderError",
    "TextStream",
    "build_llm_client",
    "provider_for",
    "shared_llm_client",
]
