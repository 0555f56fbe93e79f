"""LLM providers: Gemini first, Groq as fallback, behind the small `LLMClient` interface."""

from engine.providers.client import FallbackLLMClient, build_llm_client, shared_llm_client
from engine.providers.config import (
    DEFAULT_FALLBACK_MODEL,
    DEFAULT_FALLBACK_VISION_MODEL,
    DEFAULT_MODEL,
    ProviderConfig,
)
from engine.providers.types import LLMClient, LLMRequest, LLMResponse, ProviderError, TextStream

__all__ = [
    "DEFAULT_FALLBACK_MODEL",
    "DEFAULT_FALLBACK_VISION_MODEL",
    "DEFAULT_MODEL",
    "FallbackLLMClient",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "ProviderConfig",
    "ProviderError",
    "TextStream",
    "build_llm_client",
    "shared_llm_client",
]
