"""The chat-completions messages of a request, shared by Groq and the OpenAI-compatible provider."""

from __future__ import annotations

import base64
import json
from typing import Any

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
