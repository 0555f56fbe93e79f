"""The OpenAI-compatible chat-completions API through the official `openai` SDK (streamed, SDK retries off):
OpenAI itself, Ollama's /v1, vLLM, LM Studio, LiteLLM, OpenRouter and the like."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from engine.providers.base import AttemptFailed, Completion, status_failure
from engine.providers.chat import chat_completion, chat_messages, error_detail, sdk_failure
from engine.providers.tooling import chat_tool_completion, chat_tool_messages, chat_tools
from engine.providers.transport import TRANSPORT_ERRORS
from engine.providers.types import LLMRequest, TextFn

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAICompatibleProvider:
    env_var = "OPENAI_API_KEY"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
        name: str = "openai",
    ) -> None:
        self.name = name
        self._client = openai.OpenAI(
            # Local servers (Ollama, vLLM) take no key, but the SDK insists on one.
            api_key=api_key or "unused",
            base_url=base_url or OPENAI_BASE_URL,
            timeout=timeout_s,
            max_retries=0,
            default_headers=dict(headers or {}),
        )

    def complete(self, request: LLMRequest, model: str, *, on_text: TextFn | None = None) -> Completion:
        if request.conversation:
            return self._converse(request, model)
        if request.json_schema is None:
            return self._complete(request, model, on_text, schema_format=False)
        try:
            return self._complete(request, model, on_text, schema_format=True)
        except _SchemaFormatRefused:
            # A server without structured outputs: the schema goes in the instructions instead, and the
            # caller's validation and repair make sure of the shape.
            return self._complete(request, model, on_text, schema_format=False)

    def list_models(self) -> list[str]:
        try:
            return sorted(model.id for model in self._client.models.list())
        except openai.APIStatusError as exc:
            raise status_failure(exc.status_code, error_detail(exc.body, exc.message), None) from exc
        except (openai.APIConnectionError, *TRANSPORT_ERRORS) as exc:
            raise AttemptFailed("connection failed", transient=True) from exc

    def _complete(
        self, request: LLMRequest, model: str, on_text: TextFn | None, *, schema_format: bool
    ) -> Completion:
        response_format: Any = openai.omit
        if schema_format and request.json_schema is not None:
            schema = {"name": "answer", "schema": dict(request.json_schema)}
            response_format = {"type": "json_schema", "json_schema": schema}
        texts: list[str] = []
        usage: Any = None
        try:
            chunks = self._client.chat.completions.create(
                model=model,
                messages=chat_messages(request, schema_in_system=not schema_format),  # type: ignore[arg-type]
                temperature=request.temperature if request.temperature is not None else openai.omit,
                max_tokens=request.max_output_tokens or openai.omit,
                response_format=response_format,
                stream=True,
                # Without it a streamed answer carries no token counts.
                stream_options={"include_usage": True},
            )
            for chunk in chunks:
                text = chunk.choices[0].delta.content if chunk.choices else None
                if text:
                    texts.append(text)
                    if on_text is not None:
                        on_text(text)
                usage = chunk.usage or usage
        except openai.BadRequestError as exc:
            detail = error_detail(exc.body, exc.message)
            if schema_format and "response_format" in detail:
                raise _SchemaFormatRefused from exc
            raise status_failure(exc.status_code, detail, exc.response.headers) from exc
        except (openai.APIStatusError, openai.APIConnectionError, *TRANSPORT_ERRORS) as exc:
            raise sdk_failure(exc, openai) from exc
        return chat_completion(texts, usage)

    def _converse(self, request: LLMRequest, model: str) -> Completion:
        """One turn of a tool-using conversation, answered whole (tool calls may come several at once)."""
        try:
            response = self._client.chat.completions.create(
                model=model,
                messages=chat_tool_messages(request),  # type: ignore[arg-type]
                tools=chat_tools(request) or openai.omit,  # type: ignore[arg-type]
                temperature=request.temperature if request.temperature is not None else openai.omit,
                max_tokens=request.max_output_tokens or openai.omit,
            )
        except (openai.APIStatusError, openai.APIConnectionError, *TRANSPORT_ERRORS) as exc:
            raise sdk_failure(exc, openai) from exc
        return chat_tool_completion(response)


class _SchemaFormatRefused(Exception):
    """The server answered 400 to `response_format: json_schema`."""
