"""The fake LLM server's tool calling: the directives of an Agent's prompt (see tests/fakes/llm_server.py)
and the answers that call tools, in Gemini's and the chat-completions wire formats."""

from __future__ import annotations

import json
import re
import time
from typing import Any

TOOL_DIRECTIVE = re.compile(r"\[\[(call|always) ([A-Za-z0-9_-]+) (\{.*?\})\]\]")
FAIL_DIRECTIVE = re.compile(r"\[\[fail (gemini|groq|openai) (\d+) (\d+)\]\]")


def first_user_text(provider: str, body: Any) -> str:
    try:
        if provider == "gemini":
            return " ".join(p.get("text", "") for p in body["contents"][0]["parts"])
        return next(m["content"] for m in body["messages"] if m["role"] == "user")
    except (KeyError, IndexError, TypeError, StopIteration):
        return ""


def model_turn(provider: str, body: Any) -> int:
    """Which model call of its conversation a request is (1 for the first)."""
    if provider == "gemini":
        return 1 + sum(1 for c in body.get("contents", []) if c.get("role") == "model")
    return 1 + sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")


def tool_results(provider: str, body: Any) -> list[Any]:
    """The tool results the request's last turn carries, in order (empty on the first turn)."""
    if provider == "gemini":
        parts = body["contents"][-1]["parts"]
        return [p["functionResponse"]["response"] for p in parts if "functionResponse" in p]
    results = []
    for message in reversed(body["messages"]):
        if message["role"] != "tool":
            break
        results.insert(0, json.loads(message["content"]))
    return results


def scripted_failure(provider: str, body: Any) -> int | None:
    """The status a `[[fail ...]]` directive sets for this request, if any."""
    if not isinstance(body, dict) or not body.get("tools"):
        return None
    for name, turn, status in FAIL_DIRECTIVE.findall(first_user_text(provider, body)):
        if name == provider and int(turn) == model_turn(provider, body):
            return int(status)
    return None


def tool_calls_for(provider: str, body: Any) -> list[tuple[str, Any]] | None:
    """The calls (name, arguments) the directives make this turn, or None for a text answer."""
    if not isinstance(body, dict) or not body.get("tools"):
        return None
    directives = TOOL_DIRECTIVE.findall(first_user_text(provider, body))
    always = [(name, json.loads(args)) for verb, name, args in directives if verb == "always"]
    if always:
        return always
    calls = [(name, json.loads(args)) for verb, name, args in directives if verb == "call"]
    return calls if calls and model_turn(provider, body) == 1 else None


def tool_call_answer(
    provider: str, model: str | None, calls: list[tuple[str, Any]], turn: int
) -> dict[str, Any]:
    """An answer that calls tools, in the provider's wire format (several calls: parallel calls)."""
    usage = (10, 5 * len(calls))
    if provider == "gemini":
        parts = [{"functionCall": {"name": name, "args": args}} for name, args in calls]
        return {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": usage[0],
                "candidatesTokenCount": usage[1],
                "totalTokenCount": sum(usage),
            },
            "modelVersion": model,
        }
    tool_calls = [
        {
            "id": f"call_{turn}_{i}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
        for i, (name, args) in enumerate(calls)
    ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": tool_calls},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }
