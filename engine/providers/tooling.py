"""Tool-using conversations in each wire format: a request's provider-neutral `conversation` and `tools` as
Gemini contents and function declarations, or as chat-completions messages and tools (Groq and
OpenAI-compatible), and the tool calls of an answer read back. A conversation that moves to another
provider mid-way (a fallback) is simply written again in that provider's format."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.genai import types

from engine.providers.base import Completion
from engine.providers.chat import JSON_INSTRUCTION
from engine.providers.types import LLMRequest, ToolCall, ToolResult, Turn


def system_text(request: LLMRequest) -> str:
    """The instructions, with the JSON Schema of a structured final answer (a model that may call tools is
    not put in JSON mode: its turns that call tools are not the answer)."""
    system = request.system or ""
    if request.json_schema is not None:
        schema = json.dumps(request.json_schema, ensure_ascii=False)
        system = f"{system}\n\n{JSON_INSTRUCTION}{schema}".strip()
    return system


def _result_payload(result: ToolResult) -> dict[str, Any]:
    return {"error": result.content} if result.is_error else {"result": result.content}


# Gemini ---------------------------------------------------------------------------------------------------


def gemini_contents(request: LLMRequest) -> list[types.Content]:
    contents = []
    for turn in request.conversation:
        if turn.role == "user":
            contents.append(types.Content(role="user", parts=[types.Part.from_text(text=turn.text)]))
        elif turn.role == "model":
            parts = [types.Part.from_text(text=turn.text)] if turn.text else []
            for call in turn.tool_calls:
                args = call.arguments if isinstance(call.arguments, dict) else {"value": call.arguments}
                signature = base64.b64decode(call.signature) if call.signature else None
                parts.append(
                    types.Part(
                        function_call=types.FunctionCall(name=call.name, args=args),
                        thought_signature=signature,
                    )
                )
            contents.append(types.Content(role="model", parts=parts))
        else:
            parts = [
                types.Part.from_function_response(name=result.name, response=_result_payload(result))
                for result in turn.results
            ]
            contents.append(types.Content(role="user", parts=parts))
    return contents


def gemini_tools(request: LLMRequest) -> list[types.Tool] | None:
    if not request.tools:
        return None
    declarations = [
        types.FunctionDeclaration(
            name=tool.name, description=tool.description, parameters_json_schema=dict(tool.parameters)
        )
        for tool in request.tools
    ]
    return [types.Tool(function_declarations=declarations)]


def gemini_answer(response: types.GenerateContentResponse) -> tuple[str, tuple[ToolCall, ...]]:
    """The text and the function calls of a (whole) answer; calls get ids here, Gemini may give none."""
    if not response.candidates or not response.candidates[0].content:
        return "", ()
    texts, calls = [], []
    for part in response.candidates[0].content.parts or []:
        if part.function_call is not None:
            signature = base64.b64encode(part.thought_signature).decode() if part.thought_signature else None
            calls.append(
                ToolCall(
                    id=part.function_call.id or f"call_{len(calls) + 1}",
                    name=part.function_call.name or "",
                    arguments=dict(part.function_call.args or {}),
                    signature=signature,
                )
            )
        elif part.text and not part.thought:
            texts.append(part.text)
    return "".join(texts), tuple(calls)


# Chat completions (Groq, OpenAI-compatible) ---------------------------------------------------------------


def chat_tool_messages(request: LLMRequest) -> list[dict[str, Any]]:
    system = system_text(request)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for turn in request.conversation:
        messages.extend(_chat_turn(turn))
    return messages


def _chat_turn(turn: Turn) -> list[dict[str, Any]]:
    if turn.role == "user":
        return [{"role": "user", "content": turn.text}]
    if turn.role == "model":
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if turn.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": json.dumps(call.arguments, ensure_ascii=False),
                    },
                }
                for call in turn.tool_calls
            ]
        return [message]
    return [
        {
            "role": "tool",
            "tool_call_id": result.call_id,
            "content": json.dumps(_result_payload(result), ensure_ascii=False),
        }
        for result in turn.results
    ]


def chat_tools(request: LLMRequest) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            },
        }
        for tool in request.tools
    ]


def chat_tool_completion(response: Any) -> Completion:
    """A chat-completions answer's text, tool calls and usage; arguments that are not JSON stay a string (the
    agent answers them with an error)."""
    message = response.choices[0].message
    calls = []
    for call in message.tool_calls or []:
        raw = call.function.arguments or "{}"
        try:
            arguments = json.loads(raw)
        except ValueError:
            arguments = raw
        calls.append(
            ToolCall(id=call.id or f"call_{len(calls) + 1}", name=call.function.name, arguments=arguments)
        )
    usage = response.usage
    return Completion(
        text=message.content or "",
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        tool_calls=tuple(calls),
    )
