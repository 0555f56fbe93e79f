"""An Agent's tools: what each kind of tool offers the model (a name, a description, a JSON Schema of its
arguments) and how a call of it is made. A workflow runs as a child run (`context.workflows`), an HTTP
request and a Code program run as their nodes would (their kinds' `run`, on the agent's `context`), an MCP
tool through `context.mcp`. Every failure is a `ToolFailed`, which the agent returns to the model."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from engine.calls import callee_inputs, callee_of
from engine.context import ExecutionContext
from engine.kinds.base import NodeCall, NodeError, get_kind
from engine.kinds.rules import placeholder_names_in, placeholder_texts
from engine.mcp import McpError, McpToolCall
from engine.ports import compact_json
from engine.providers.types import ToolSpec
from engine.schema import apply_defaults

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# The editor's choices: a type's `picker` picks what it calls, a type that `borrows` a kind's settings has
# them edited as JSON.
TOOL_TYPE_CHOICES = (
    {"value": "workflow", "label": "Workflow", "picker": "workflow"},
    {"value": "http", "label": "HTTP request", "borrows": "http"},
    {"value": "code", "label": "Code", "borrows": "code"},
    {"value": "mcp", "label": "MCP tool", "picker": "mcp"},
)
TOOL_TYPES = tuple(choice["value"] for choice in TOOL_TYPE_CHOICES)
# The settings of a tool that are about the tool, not about the node whose settings it borrows.
_TOOL_FIELDS = frozenset(
    {"name", "description", "type", "requiresApproval", "approvalTimeoutSeconds", "onTimeout"}
)
# A call of a tool with `requiresApproval` waits for a person as an Approval node does, with its defaults.
APPROVAL_TIMEOUTS = ("reject", "approve", "fail")
DEFAULT_APPROVAL_WAIT_S = 86400
_HTTP_TEMPLATES = ("url", "query", "headers", "body")
_MCP_LIST_TIMEOUT_S = 15.0
_PREVIEW_CHARS = 200


def preview(value: Any) -> str:
    """A tool call's arguments or result as the live steps show it: compact and cut short."""
    text = value if isinstance(value, str) else compact_json(value)
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


class ToolFailed(Exception):
    """A tool call that gave no result: the model reads `message` as the call's error."""

    def __init__(self, message: str, *, child_run_id: str | None = None, cancelled: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.child_run_id = child_run_id
        # A cancelled child run: the run (or the child) was stopped, which stops the agent as it does a
        # Sub-workflow, rather than an error for the model to work around.
        self.cancelled = cancelled


@dataclass(frozen=True)
class ToolAnswer:
    value: Any
    child_run_id: str | None = None


@dataclass(frozen=True)
class ToolEnv:
    """What a tool call runs with: the agent node's id, context, log and `stopped`, the call's time limit and
    what its answer may take."""

    node_id: str
    context: ExecutionContext
    log: Callable[[str, str], None]
    stopped: Callable[[], bool]
    timeout_s: float
    max_bytes: int | None


def settings_of(tool: Mapping[str, Any]) -> dict[str, Any]:
    """The node settings a tool borrows (an HTTP Request's, a Code node's), with that kind's defaults."""
    kind = get_kind(tool["type"] if tool["type"] != "mcp" else "mcp_tool")
    own = {k: v for k, v in tool.items() if k not in _TOOL_FIELDS}
    return apply_defaults(kind.full_schema(), own) if kind is not None else own


def tool_problems(tool: Any, index: int) -> list[tuple[str, str]]:
    """What is wrong with one entry of `tools`, as (data path, message)."""
    at = f"tools[{index}]"
    if not isinstance(tool, Mapping):
        return [(at, "must be an object with a name, a description and a type")]
    problems = []
    name = tool.get("name")
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        problems.append((f"{at}.name", "letters, digits, _ and -, at most 64 characters"))
    if not isinstance(tool.get("description", ""), str):
        problems.append((f"{at}.description", "must be text"))
    problems += _approval_problems(tool, at)
    kind = tool.get("type")
    if kind not in TOOL_TYPES:
        return [*problems, (f"{at}.type", f"must be one of {', '.join(TOOL_TYPES)}")]
    if kind == "workflow":
        if not tool.get("workflowId"):
            problems.append((f"{at}.workflowId", "choose the workflow to call"))
        elif callee_of(tool) is None:
            problems.append((f"{at}.workflowId", "the called workflow could not be resolved"))
        return problems
    if kind == "mcp":
        for field in ("connection", "tool"):
            if not isinstance(tool.get(field), str) or not tool[field].strip():
                problems.append((f"{at}.{field}", f"choose the MCP {field}"))
        return problems
    borrowed = get_kind(kind)
    assert borrowed is not None
    return problems + [
        (f"{at}.{where}" if where else at, message)
        for where, message in borrowed.check(settings_of(tool), frozenset())
    ]


def _approval_problems(tool: Mapping[str, Any], at: str) -> list[tuple[str, str]]:
    problems = []
    if not isinstance(tool.get("requiresApproval", False), bool):
        problems.append((f"{at}.requiresApproval", "must be true or false"))
    wait = tool.get("approvalTimeoutSeconds", DEFAULT_APPROVAL_WAIT_S)
    if isinstance(wait, bool) or not isinstance(wait, int) or wait < 1:
        problems.append((f"{at}.approvalTimeoutSeconds", "a whole number of seconds, at least 1"))
    if tool.get("onTimeout", "reject") not in APPROVAL_TIMEOUTS:
        problems.append((f"{at}.onTimeout", f"must be one of {', '.join(APPROVAL_TIMEOUTS)}"))
    return problems


def approval_terms(tool: Mapping[str, Any]) -> tuple[float, str]:
    """How long a call of the tool waits for a person, and what follows when no one decides."""
    return float(tool.get("approvalTimeoutSeconds", DEFAULT_APPROVAL_WAIT_S)), tool.get("onTimeout", "reject")


def tool_is_pure(tool: Mapping[str, Any]) -> bool:
    """Whether a call of the tool is a function of its arguments alone: a Code program, or a workflow whose
    callee is pure (engine/calls.py). HTTP and MCP tools may change, or read, the world; a call a person
    approves depends on their decision."""
    if tool.get("requiresApproval") is True:
        return False
    if tool.get("type") == "code":
        return True
    callee = callee_of(tool) if tool.get("type") == "workflow" else None
    return callee is not None and callee.get("pure") is True


def _object_schema(names: list[str], *, required: bool, value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: dict(value) for name in names},
        **({"required": names} if required and names else {}),
    }


def tool_spec(tool: Mapping[str, Any], context: ExecutionContext) -> ToolSpec:
    """What the model is told about the tool; an MCP tool's schema is the server's (asked once per run)."""
    kind, description = tool["type"], tool.get("description") or ""
    if kind == "workflow":
        callee = callee_of(tool)
        assert callee is not None  # validation refuses an unresolved one
        inputs = callee_inputs(callee)
        parameters = {
            "type": "object",
            "properties": {str(i["name"]): {"type": "string"} for i in inputs},
            "required": [str(i["name"]) for i in inputs if i.get("required")],
        }
        return ToolSpec(
            tool["name"], description or f"Runs the workflow {callee.get('name', '')}", parameters
        )
    if kind == "http":
        names = placeholder_names_in(placeholder_texts(settings_of(tool), list(_HTTP_TEMPLATES)))
        parameters = _object_schema(names, required=True, value={"type": "string"})
        return ToolSpec(tool["name"], description, parameters)
    if kind == "code":
        names = [str(name) for name in settings_of(tool)["inputs"]]
        return ToolSpec(tool["name"], description, _object_schema(names, required=False, value={}))
    return ToolSpec(tool["name"], description, _mcp_schema(tool, context))


def _mcp_schema(tool: Mapping[str, Any], context: ExecutionContext) -> dict[str, Any]:
    if context.mcp is None:
        raise NodeError("configuration", "no MCP client is configured for this run")
    try:
        listed = context.mcp.list_tools(tool["connection"], timeout_s=_MCP_LIST_TIMEOUT_S)
    except McpError as exc:
        raise NodeError(exc.kind, f"tool {tool['name']}: {exc.message}") from exc
    found = next((t for t in listed if t.get("name") == tool["tool"]), None)
    if found is None:
        raise NodeError(
            "mcp_refused", f"tool {tool['name']}: {tool['connection']} has no tool {tool['tool']!r}"
        )
    schema = found.get("inputSchema")
    return dict(schema) if isinstance(schema, Mapping) else {"type": "object", "properties": {}}


def argument_problem(spec: ToolSpec, arguments: Any) -> str | None:
    """Why the model's arguments do not fit the tool's schema (None: they do)."""
    if not isinstance(arguments, dict):
        return f"arguments must be a JSON object, not {json.dumps(arguments)[:80]}"
    try:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(spec.parameters).iter_errors(arguments)
        )
    except jsonschema.exceptions.SchemaError:
        return None  # a server's schema we cannot read: the tool itself is the judge
    return (
        None if error is None else f"arguments do not match the schema: at {error.json_path}: {error.message}"
    )


def call_tool(tool: Mapping[str, Any], arguments: Mapping[str, Any], env: ToolEnv) -> ToolAnswer:
    """Make one call, or raise ToolFailed."""
    kind = tool["type"]
    if kind == "workflow":
        return _call_workflow(tool, arguments, env)
    if kind == "mcp":
        return _call_mcp(tool, arguments, env)
    settings = {
        **settings_of(tool),
        "timeoutSeconds": min(float(settings_of(tool)["timeoutSeconds"]), env.timeout_s),
    }
    node_call = NodeCall(
        node_id=env.node_id,
        data=settings,
        raw_data=settings,
        inputs=dict(arguments),
        context=env.context,
        log=env.log,
        max_output_bytes=env.max_bytes,
        stopped=env.stopped,
    )
    borrowed = get_kind(kind)
    assert borrowed is not None
    try:
        output = borrowed.run(node_call)
    except NodeError as exc:
        raise ToolFailed(f"{exc.kind}: {exc.message}") from exc
    return ToolAnswer(output.values["response" if kind == "http" else "result"])


def _call_workflow(tool: Mapping[str, Any], arguments: Mapping[str, Any], env: ToolEnv) -> ToolAnswer:
    caller, callee = env.context.workflows, callee_of(tool)
    if caller is None or callee is None:
        raise ToolFailed("workflows cannot be called in this run")
    outcome = caller.call(
        node_id=env.node_id, callee=callee, inputs=dict(arguments), log=env.log, stopped=env.stopped
    )
    if outcome.status != "succeeded":
        raise ToolFailed(
            f"child run {outcome.status}: {outcome.error}",
            child_run_id=outcome.run_id,
            cancelled=outcome.status == "cancelled",
        )
    return ToolAnswer(dict(outcome.outputs), child_run_id=outcome.run_id)


def _call_mcp(tool: Mapping[str, Any], arguments: Mapping[str, Any], env: ToolEnv) -> ToolAnswer:
    client = env.context.mcp
    if client is None:
        raise ToolFailed("MCP tools cannot be called in this run")
    request = McpToolCall(
        connection=tool["connection"],
        tool=tool["tool"],
        arguments=dict(arguments),
        timeout_s=min(float(settings_of(tool)["timeoutSeconds"]), env.timeout_s),
        max_bytes=env.max_bytes,
    )
    try:
        result = client.call_tool(request)
    except McpError as exc:
        raise ToolFailed(f"{exc.kind}: {exc.message}") from exc
    if result.is_error:
        raise ToolFailed(result.text or f"the tool {request.tool} failed")
    return ToolAnswer(result.structured if result.structured is not None else result.text)
