"""MCP Tool: calls a tool of an MCP server (one of the owner's connections) through `context.mcp`; each
`{{name}}` in a string value of its arguments is an input port."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, OutputTooLarge, register
from engine.kinds.prompt import as_text, invalid_placeholders
from engine.kinds.rules import PLACEHOLDER
from engine.mcp import McpError, McpToolCall
from engine.ports import Port


def _filled(value: Any, inputs: Mapping[str, Any]) -> Any:
    """A string that is exactly one placeholder passes that input's value unchanged (a number stays a
    number); any other string gets its placeholders filled as text; other values stay as they are."""
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group(1).strip() in inputs:
        return inputs[whole.group(1).strip()]
    return PLACEHOLDER.sub(lambda match: as_text(inputs.get(match.group(1).strip(), match.group(0))), value)


def _result_value(structured: Any, text: str) -> Any:
    """The tool's structuredContent, else its text parsed as JSON, else the text."""
    if structured is not None:
        return structured
    try:
        return json.loads(text)
    except ValueError:
        return text


@register
class McpToolKind(NodeKind):
    type = "mcp_tool"
    times_itself = True
    label = "MCP Tool"
    description = "Calls a tool of an MCP server; each {{name}} in an argument's text is an input port."
    palette_group = "Tools"
    palette_order = 108
    icon = "⚒"
    summary = {
        "choose": [
            {"when": {"field": "tool", "notEmpty": True}, "text": "{tool} on {connection}"},
            {"text": "No tool yet"},
        ]
    }
    tool_source = {
        "connection": "connection",
        "tool": "tool",
        "arguments": "arguments",
        "reusable": "reusable",
    }
    inputs_from = {"placeholders": ["arguments"], "type": "any", "required": True}
    outputs = (Port("result", "json"), Port("text", "text"))
    data_schema = {
        "type": "object",
        "properties": {
            "connection": {"type": "string", "title": "Connection", "default": ""},
            "tool": {"type": "string", "title": "Tool", "default": ""},
            "arguments": {
                "type": "object",
                "title": "Arguments",
                "default": {},
                "description": "A string value that is exactly {{name}} passes that input's value as it is.",
            },
            "timeoutSeconds": {
                "type": "number",
                "title": "Timeout (seconds)",
                "minimum": 1,
                "maximum": 600,
                "default": 60,
            },
            "reusable": {
                "type": "boolean",
                "title": "The server marks the tool idempotent or read-only",
                "default": False,
                "description": "From the tool's annotations when picked: earlier answers may be reused.",
            },
        },
    }

    def reusable(self, data: Mapping[str, Any]) -> bool:
        return data.get("reusable") is True

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for field, what in (("connection", "choose an MCP connection"), ("tool", "choose a tool")):
            value = data.get(field)
            if isinstance(value, str) and not value.strip():
                problems.append((field, what))
        arguments = data.get("arguments")
        if isinstance(arguments, Mapping):
            for name, value in arguments.items():
                if isinstance(value, str):
                    problems += [
                        (f"arguments.{name}", f"unknown placeholder {bad}")
                        for bad in invalid_placeholders(value)
                    ]
        return problems

    def run(self, call: NodeCall) -> NodeOutput:
        if call.context.mcp is None:
            raise NodeError("configuration", "no MCP client is configured for this run")
        data = call.data
        request = McpToolCall(
            connection=data["connection"],
            tool=data["tool"],
            arguments={name: _filled(value, call.inputs) for name, value in data["arguments"].items()},
            timeout_s=float(data["timeoutSeconds"]),
            max_bytes=call.max_output_bytes,
        )
        try:
            result = call.context.mcp.call_tool(request)
        except McpError as exc:
            if exc.kind == "output_limit":
                raise OutputTooLarge(exc.message) from exc
            raise NodeError(exc.kind, exc.message) from exc
        if result.is_error:
            raise NodeError("tool_error", result.text or f"the tool {request.tool} failed")
        call.log("info", f"{request.tool} on {request.connection} answered")
        return NodeOutput({"result": _result_value(result.structured, result.text), "text": result.text})
