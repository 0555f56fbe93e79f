"""Groq through the `groq` SDK (OpenAI-shaped chat completions, streamed), with SDK retries off."""

from __future__ import annotations

from typing import Any

import groq

from engine.providers.base import AttemptFailed, Completion, status_failure
from engine.providers.chat import chat_completion, chat_messages, error_detail, sdk_failure
from engine.providers.tooling import chat_tool_completion, chat_tool_messages, chat_tools
from engine.providers.transport import TRANSPORT_ERRORS
from engine.providers.types import LLMRequest, TextFn


class GroqProvider:
    name = "groq"
    env_var = "GROQ_API_KEY"

    def __init__(self, *, api_key: str, base_url: str | None, timeout_s: float) -> None:
        self._client = groq.Groq(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)

    def list_models(self) -> list[str]:
        try:
            return sorted(model.id for model in self._client.models.list().data)
        except groq.APIStatusError as exc:
            raise status_failure(exc.status_code, error_detail(exc.body, exc.message), None) from exc
        except (groq.APIConnectionError, *TRANSPORT_ERRORS) as exc:
            raise AttemptFailed("connection failed", transient=True) from exc

    def complete(self, request: LLMRequest, model: str, *, on_text: TextFn | None = None) -> Completion:
        if request.conversation:
            return self._converse(request, model)
        messages = chat_messages(request, schema_in_system=True)
        texts: list[str] = []
        usage: Any = None
        try:
            chunks = self._client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                temperature=request.temperature,
                max_tokens=request.max_output_tokens,
                response_format={"type": "json_object"} if request.json_schema is not None else groq.omit,
                stream=True,
            )
            for chunk in chunks:
                text = chunk.choices[0].delta.content if chunk.choices else None
                if text:
                    texts.append(text)
                    if on_text is not None:
                        on_text(text)
                # Groq sends the usage on the last chunk, under x_groq.
                usage = getattr(chunk.x_groq, "usage", None) or getattr(chunk, "usage", None) or usage
        except (groq.APIStatusError, groq.APIConnectionError, *TRANSPORT_ERRORS) as exc:
            raise sdk_failure(exc, groq) from exc
        return chat_completion(texts, usage)

    def _converse(self, request: LLMRequest, model: str) -> Completion:
        """One turn of a tool-using conversation, answered whole (tool calls may come several at once)."""
        try:
            response = self._client.chat.completions.create(
                model=model,
                messages=chat_tool_messages(request),  # type: ignore[arg-type]
                tools=chat_tools(request) or groq.omit,  # type: ignore[arg-type]
                temperature=request.temperature,
                max_tokens=request.max_output_tokens,
            )
        except (groq.APIStatusError, groq.APIConnectionError, *TRANSPORT_ERRORS) as exc:
            raise sdk_failure(exc, groq) from exc
        return chat_tool_completion(response)
