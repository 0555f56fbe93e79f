"""The MCP Tool kind on its own: ports from its arguments' placeholders, what it sends (a lone placeholder
passes its value unchanged), what it makes of an answer, and its failures, with an in-memory MCP client
standing in for the app's."""

from __future__ import annotations

from engine import (
    ExecutionContext,
    McpError,
    McpToolCall,
    McpToolResult,
    MemorySink,
    execute_graph,
    input_ports_for,
    validate_graph,
)
from engine.kinds import get_kind
from tests.graphs import edge, graph, node


class CannedMcp:
    """Answers every call with `result` (or raises `error`), and keeps the calls."""

    def __init__(self, result: McpToolResult | None = None, error: McpError | None = None) -> None:
        self.result = result or McpToolResult(structured=None, text="")
        self.error = error
        self.calls: list[McpToolCall] = []

    def call_tool(self, call: McpToolCall) -> McpToolResult:
        self.calls.append(call)
        if self.error is not None:
            raise self.error
        return self.result


ARGUMENTS = {"items": "{{items}}", "query": "about {{items}}", "limit": 3}


def run_one(mcp: CannedMcp | None, **data):
    data = {"connection": "search", "tool": "find", "arguments": ARGUMENTS, **data}
    g = graph(
        [node("j", "text", text="ignored"), node("m", "mcp_tool", **data)],
        [edge("j", "m", "text", "items")],
    )
    outcome = execute_graph(g, context=ExecutionContext(mcp=mcp), sink=MemorySink())
    return outcome.results["m"]


def test_placeholders_in_the_arguments_string_values_are_input_ports():
    mcp = node(
        "m", "mcp_tool", connection="c", tool="t", arguments={"a": "{{x}}", "b": "{{y}} {{x}}", "n": 1}
    )

    assert [(p.name, p.required) for p in input_ports_for(mcp)] == [("x", True), ("y", True)]


def test_a_lone_placeholder_passes_the_value_and_others_are_filled_as_text():
    mcp = CannedMcp(McpToolResult(structured={"hits": 2}, text='{"hits": 2}'))

    result = run_one(mcp)

    assert result.status.value == "succeeded"
    assert mcp.calls[0].arguments == {"items": "ignored", "query": "about ignored", "limit": 3}
    assert (mcp.calls[0].connection, mcp.calls[0].tool, mcp.calls[0].timeout_s) == ("search", "find", 60.0)
    assert result.output == {"result": {"hits": 2}, "text": '{"hits": 2}'}


def test_without_structured_content_the_result_is_the_text_parsed_or_the_text():
    assert run_one(CannedMcp(McpToolResult(structured=None, text="[1, 2]"))).output["result"] == [1, 2]
    assert run_one(CannedMcp(McpToolResult(structured=None, text="plain"))).output["result"] == "plain"


def test_a_tools_is_error_fails_the_node_with_its_message():
    result = run_one(CannedMcp(McpToolResult(structured=None, text="no such city", is_error=True)))

    assert (result.status.value, result.error_kind, result.error_message) == (
        "failed",
        "tool_error",
        "no such city",
    )


def test_a_client_error_fails_the_node_with_its_kind():
    timeout = run_one(CannedMcp(error=McpError("mcp_timeout", "the server did not answer within 60 s")))
    too_big = run_one(CannedMcp(error=McpError("output_limit", "the answer is over 1 MB")))

    assert (timeout.error_kind, timeout.error_message) == (
        "mcp_timeout",
        "the server did not answer within 60 s",
    )
    assert too_big.error_kind == "output_limit"
    assert run_one(None).error_kind == "configuration"


def test_a_node_without_connection_or_tool_is_invalid_and_reused_only_when_marked():
    issues = validate_graph(graph([node("m", "mcp_tool", connection="", tool="")]))

    assert {issue.path for issue in issues} >= {"nodes[0].data.connection", "nodes[0].data.tool"}
    kind = get_kind("mcp_tool")
    assert kind.reusable({"reusable": True}) is True
    assert kind.reusable({}) is False
