"""Agent: a model that calls tools (workflows, HTTP requests, Code programs, MCP tools) in a loop until it
answers, within hard limits (engine/kinds/agent_loop.py); its tools are in engine/kinds/agent_tools.py."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.calls import AGENT_KIND
from engine.kinds.agent_loop import Conversation, Limits, estimate_tokens
from engine.kinds.agent_tools import TOOL_TYPE_CHOICES, tool_is_pure, tool_problems, tool_spec
from engine.kinds.base import NodeCall, NodeError, NodeOutput, register
from engine.kinds.llm import SAMPLING, ModelKind, models_property
from engine.kinds.prompt import as_text, invalid_placeholders
from engine.kinds.rules import PLACEHOLDER, placeholder_names
from engine.kinds.structured import schema_problem
from engine.ports import Port
from engine.providers.types import ToolSpec, Turn

MAX_TOOLS = 32


def _limit(title: str, default: int | None, *, minimum: float = 1, kind: str = "integer") -> dict[str, Any]:
    types = [kind] if default is not None else [kind, "null"]
    return {"type": types, "title": title, "minimum": minimum, "default": default}


@register
class AgentKind(ModelKind):
    type = AGENT_KIND
    # Its `timeoutSeconds` is a limit checked before each call (`agent_limit`); the engine deadline backs it.
    times_itself = True
    label = "Agent"
    description = (
        "A model that calls tools (workflows, HTTP, code, MCP) until it answers, within hard limits."
    )
    palette_order = 55
    icon = "⟳"
    summary = {
        "choose": [{"text": "{models}"}, {"text": "Default models"}],
        "append": [{"when": {"field": "tools", "notEmpty": True}, "text": " · tools"}],
    }
    # One required text input per {{name}} of the prompt template.
    inputs_from = {"placeholders": "prompt", "type": "text", "required": True}
    outputs = (Port("answer", "any"), Port("transcript", "json"))
    data_schema = {
        "type": "object",
        "properties": {
            **models_property(),
            "systemPrompt": {"type": "string", "title": "System prompt", "default": "", "multiline": True},
            "prompt": {
                "type": "string",
                "title": "Prompt",
                "default": "",
                "multiline": True,
                "description": "Each {{name}} is an input port.",
            },
            **SAMPLING,
            "jsonSchema": {
                "type": ["object", "null"],
                "title": "JSON Schema",
                "default": None,
                "description": "The final answer is JSON matching this schema.",
            },
            "tools": {
                "type": "array",
                "title": "Tools",
                "default": [],
                # Each tool's fields depend on its type (`check` validates them): the editor shows a card per
                # tool (name, description, type, approval, and the `picker` of its type), the whole list also
                # as JSON, where the settings a type `borrows` from a node kind are edited.
                "items": {"type": "object"},
                "widget": "tools",
                "toolTypes": [dict(choice) for choice in TOOL_TYPE_CHOICES],
                "description": 'Each {"name", "description", "type"} and, by type: workflow (workflowId, '
                "version), http (an HTTP Request's settings), code (a Code node's settings), mcp "
                '(connection, tool). With "requiresApproval": true each call waits for a person '
                '("approvalTimeoutSeconds", default 86400; "onTimeout": reject, approve or fail).',
            },
            "maxIterations": _limit("Max model calls", 10),
            "maxToolCalls": _limit("Max tool calls", 20, minimum=0),
            "maxTokens": _limit("Max tokens", None),
            "maxCostUsd": _limit("Max cost (USD)", None, minimum=0, kind="number"),
            "toolConcurrency": {**_limit("Parallel tool calls", 4), "maximum": 16},
        },
    }

    def reusable(self, data: Mapping[str, Any]) -> bool:
        # Pinned, or deterministic: temperature 0 and tools whose answers depend on their arguments alone.
        tools = data.get("tools") or []
        pure = all(isinstance(tool, Mapping) and tool_is_pure(tool) for tool in tools)
        return data.get("pin") is True or (data.get("temperature") == 0 and pure)

    def token_estimate(self, data: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[int, int]:
        """The first model call's most (the later ones reserve as they come: engine/kinds/agent_loop.py)."""
        prompt = _rendered(str(data.get("prompt") or ""), inputs)
        specs = [_declared(tool) for tool in data.get("tools") or [] if isinstance(tool, Mapping)]
        prompt_tokens = estimate_tokens(str(data.get("systemPrompt") or ""), [Turn("user", prompt)], specs)
        return prompt_tokens, int(data.get("maxOutputTokens") or 0)

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problems = super().check(data, connected)
        schema = data.get("jsonSchema")
        if isinstance(schema, Mapping) and (problem := schema_problem(schema)):
            problems.append(("jsonSchema", problem))
        prompt = data.get("prompt")
        if isinstance(prompt, str):
            problems += [("prompt", f"unknown placeholder {bad}") for bad in invalid_placeholders(prompt)]
            if not prompt.strip():
                problems.append(("prompt", "write what the agent should do"))
        tools = data.get("tools")
        if isinstance(tools, list):
            if len(tools) > MAX_TOOLS:
                problems.append(("tools", f"at most {MAX_TOOLS} tools"))
            for index, tool in enumerate(tools):
                problems += tool_problems(tool, index)
            names = [tool.get("name") for tool in tools if isinstance(tool, Mapping)]
            if len(set(map(str, names))) != len(names):
                problems.append(("tools", "tool names must differ"))
        return problems

    def run(self, call: NodeCall) -> NodeOutput:
        if call.context.llm is None:
            raise NodeError("configuration", "no LLM client is configured for this run")
        data = call.data
        tools = [dict(tool) for tool in data["tools"]]
        timeout_s = data.get("timeoutSeconds")
        max_cost = data.get("maxCostUsd")
        limits = Limits(
            max_iterations=int(data["maxIterations"]),
            max_tool_calls=int(data["maxToolCalls"]),
            max_tokens=data.get("maxTokens"),
            max_cost_usd=Decimal(str(max_cost)) if max_cost is not None else None,
            deadline=time.monotonic() + float(timeout_s) if timeout_s else None,
            timeout_s=float(timeout_s) if timeout_s else None,
            concurrency=int(data["toolConcurrency"]),
        )
        conversation = Conversation(
            call,
            tools=tools,
            specs=[tool_spec(tool, call.context) for tool in tools],
            chain=self.chain(call),
            skip_missing=not call.raw_data.get("models"),
            system=data["systemPrompt"],
            prompt=_rendered(data["prompt"], call.inputs),
            schema=data["jsonSchema"],
            limits=limits,
        )
        approvals = call.context.approvals
        if approvals is not None and any(tool.get("requiresApproval") is True for tool in tools):
            checkpoint = approvals.checkpoint(call.node_id)
            if checkpoint is not None:  # it paused for decisions on its calls: it goes on from there
                conversation.restore(checkpoint)
        return conversation.run()


def _rendered(template: str, inputs: Mapping[str, Any]) -> str:
    names = set(placeholder_names(template))

    def fill(match: Any) -> str:
        name = match.group(1).strip()
        return as_text(inputs[name]) if name in names and name in inputs else match.group(0)

    return PLACEHOLDER.sub(fill, template)


def _declared(tool: Mapping[str, Any]) -> ToolSpec:
    """A tool as far as the graph tells, for the first estimate (an MCP tool's schema is the server's)."""
    return ToolSpec(str(tool.get("name", "")), str(tool.get("description", "")), {"type": "object"})
