"""An Agent's conversation as JSON, so that it can pause for people's decisions on tool calls and go on later
from where it stopped (engine/kinds/agent_loop.py): the provider-neutral turns, the transcript, the counters
its limits use and the turn whose calls wait. The apps store it with the approvals (runs.approvals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.providers.types import ToolCall, ToolResult, Turn

VERSION = 1


def call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments, "signature": call.signature}


def call_from(value: Mapping[str, Any]) -> ToolCall:
    return ToolCall(value["id"], value["name"], value["arguments"], value.get("signature"))


def result_json(result: ToolResult) -> dict[str, Any]:
    return {
        "callId": result.call_id,
        "name": result.name,
        "content": result.content,
        "isError": result.is_error,
    }


def result_from(value: Mapping[str, Any]) -> ToolResult:
    return ToolResult(value["callId"], value["name"], value["content"], bool(value["isError"]))


def turn_json(turn: Turn) -> dict[str, Any]:
    return {
        "role": turn.role,
        "text": turn.text,
        "toolCalls": [call_json(c) for c in turn.tool_calls],
        "results": [result_json(r) for r in turn.results],
    }


def turn_from(value: Mapping[str, Any]) -> Turn:
    return Turn(
        value["role"],
        value["text"],
        tuple(call_from(c) for c in value["toolCalls"]),
        tuple(result_from(r) for r in value["results"]),
    )
