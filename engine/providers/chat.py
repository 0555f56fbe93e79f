"""What Groq and the OpenAI-compatible provider share: the chat-completions messages of a request, and what
their SDKs' (alike) errors and usage mean for an attempt."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

from engine.providers.base import AttemptFailed, Completion, status_failure
from engine.providers.transport import transport_failure
from engine.providers.types import LLMRequest

JSON_INSTRUCTION = "Answer with a single JSON value and nothing else. It must match this JSON Schema: "


def chat_messages(request: LLMRequest, *, schema_in_system: bool) -> list[dict[str, Any]]:
    """System and user messages, images as data-URL parts; with `schema_in_system` the JSON Schema
    goes in the instructions (for servers whose JSON mode guarantees JSON, not a shape)."""
    messages: list[dict[str, Any]] = []
    system = request.system or ""
    if schema_in_system and request.json_schema is not None:
        schema = json.dumps(request.json_schema, ensure_ascii=False)
        system = f"{system}\n\n{JSON_INSTRUCTION}{schema}".strip()
    if system:
        messages.append({"role": "system", "content": system})
    if request.images:
        content: Any = [{"type": "text", "text": request.prompt}]
        for image in request.images:
            encoded = base64.b64encode(image.data).decode("ascii")
            url = f"data:{image.mime_type};base64,{encoded}"
            content.append({"type": "image_url", "image_url": {"url": url}})
    else:
        content = request.prompt
    messages.append({"role": "user", "content": content})
    return messages


def error_detail(body: object, fallback: str) -> str:
    """The provider's own message from an OpenAI-shaped error body."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return fallback


def sdk_failure(exc: BaseException, sdk: ModuleType) -> AttemptFailed:
    """What an error raised by an OpenAI-shaped SDK (`openai`, `groq`) while asking or streaming means for
    the attempt: the server's status and message, a timeout, a lost connection, or a transport error."""
    if isinstance(exc, sdk.APIStatusError):
        return status_failure(exc.status_code, error_detail(exc.body, exc.message), exc.response.headers)
    if isinstance(exc, sdk.APITimeoutError):
        return AttemptFailed("timed out", transient=True, timeout=True)
    if isinstance(exc, sdk.APIConnectionError):
        return AttemptFailed("connection failed", transient=True)
    return transport_failure(exc)


def chat_completion(texts: list[str], usage: Any) -> Completion:
    """The streamed texts joined, with the chat-completions usage when the server sent it."""
    return Completion(
        text="".join(texts),
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
    )
