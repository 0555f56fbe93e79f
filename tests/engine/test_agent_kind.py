"""The Agent node on the real SDKs against the fake LLM server: both wire formats, each kind of tool, parallel
calls, tool failures returned to the model, a fallback mid-conversation, a cancel during a tool call."""

from __future__ import annotations

import json
import threading

import pytest

from core.mcp_client import mcp_tool_call, mcp_tools_list
from engine import McpToolCall, McpToolResult, MemorySink, ToolAnswered, ToolCalled
from tests.engine.agents import RecordingWeb, agent_graph, http_tool, run_agent
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.mcp_servers import outside_mcp_url
from tests.waiting import wait_for

GEMINI = ["gemini/fake-chat"]
GROQ = ["groq/fake-chat"]


def test_on_gemini_a_tool_call_and_its_result_travel_as_function_call_and_function_response(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb()
    graph = agent_graph('Weather? [[call look {"city": "Oslo"}]]', [http_tool()], models=GEMINI)

    result = run_agent(fake_llm, graph, web=web)

    assert result.status == "succeeded", result.error_message
    first, second = fake_llm.requests
    [declaration] = first.body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "look"
    assert declaration["parameters_json_schema"]["required"] == ["city"]
    call_turn, answer_turn = second.body["contents"][1:]
    assert call_turn == {
        "role": "model",
        "parts": [{"functionCall": {"name": "look", "args": {"city": "Oslo"}}}],
    }
    [response] = answer_turn["parts"]
    assert response["functionResponse"]["response"]["result"]["body"] == {"city": "Oslo", "sky": "clear"}
    assert result.output["answer"].startswith("answer: [{")
    steps = result.output["transcript"]
    assert [step["type"] for step in steps] == ["model", "tool", "model"]
    assert steps[1]["arguments"] == {"city": "Oslo"}
    assert steps[1]["result"]["status"] == 200
    assert (result.input_tokens, result.provider) == (sum(s.get("inputTokens", 0) for s in steps), "gemini")


def test_on_groq_three_parallel_calls_overlap_and_come_back_as_tool_messages(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb(delay_s=0.3)
    prompt = " ".join(f'[[call look {{"city": "{city}"}}]]' for city in ("Oslo", "Rome", "Lima"))
    sink = MemorySink()

    result = run_agent(fake_llm, agent_graph(prompt, [http_tool()], models=GROQ), web=web, sink=sink)

    assert result.status == "succeeded", result.error_message
    # Measured at the fake web: every request started before any ended.
    assert max(start for _, start, _ in web.spans) < min(end for _, _, end in web.spans)
    messages = fake_llm.requests[1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool", "tool"]
    assert [c["id"] for c in messages[1]["tool_calls"]] == [m["tool_call_id"] for m in messages[2:]]
    assert [json.loads(m["content"])["result"]["body"]["city"] for m in messages[2:]] == [
        "Oslo",
        "Rome",
        "Lima",
    ]
    assert len(sink.of_type(ToolCalled)) == len(sink.of_type(ToolAnswered)) == 3


def test_tool_concurrency_one_makes_the_calls_one_after_another(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb(delay_s=0.05)
    prompt = " ".join(f'[[call look {{"city": "{city}"}}]]' for city in ("Oslo", "Rome"))

    run_agent(fake_llm, agent_graph(prompt, [http_tool()], models=GROQ, toolConcurrency=1), web=web)

    (_, _, first_end), (_, second_start, _) = sorted(web.spans, key=lambda span: span[1])
    assert first_end <= second_start


def test_a_failing_tool_an_unknown_tool_and_bad_arguments_are_returned_to_the_model_as_errors(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb(status_for={"Nowhere": 404})
    prompt = '[[call look {"city": "Nowhere"}]] [[call guess {}]] [[call look {"town": 3}]]'

    result = run_agent(fake_llm, agent_graph(prompt, [http_tool()], models=GROQ), web=web)

    assert result.status == "succeeded", result.error_message
    errors = [step["error"] for step in result.output["transcript"] if step["type"] == "tool"]
    assert errors[0] == "http_status: the server answered HTTP 404"
    assert errors[1] == "there is no tool named 'guess'"
    assert errors[2].startswith("arguments do not match the schema")
    tool_messages = [m for m in fake_llm.requests[1].body["messages"] if m["role"] == "tool"]
    assert [json.loads(m["content"])["error"] for m in tool_messages] == errors
    assert web.started == ["http://weather.test/Nowhere"]  # the refused calls never reached the tool


def test_a_code_tool_runs_its_program_in_the_sandbox(fake_llm: FakeLLMServer, code_pool) -> None:
    tool = {
        "name": "double",
        "description": "Doubles n",
        "type": "code",
        "language": "javascript",
        "code": "function main(inputs) { return inputs.n * 2; }",
        "inputs": ["n"],
    }

    result = run_agent(
        fake_llm, agent_graph('[[call double {"n": 21}]]', [tool], models=GEMINI), code=code_pool
    )

    assert result.status == "succeeded", result.error_message
    assert result.output["answer"] == 'answer: [{"result":42}]'


class _OutsideMcp:
    """The app's MCP client functions on one server URL (every connection slug names it)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def list_tools(self, connection: str, *, timeout_s: float) -> list[dict]:
        return mcp_tools_list(url=self.url, headers={}, timeout_s=timeout_s, max_bytes=1_000_000)

    def call_tool(self, call: McpToolCall) -> McpToolResult:
        return mcp_tool_call(
            url=self.url,
            headers={},
            tool=call.tool,
            arguments=call.arguments,
            timeout_s=call.timeout_s,
            max_bytes=1_000_000,
        )


def test_an_mcp_tool_offers_the_servers_schema_and_its_is_error_comes_back_as_an_error(
    fake_llm: FakeLLMServer,
) -> None:
    tools = [
        {"name": "forecast", "description": "", "type": "mcp", "connection": "outside", "tool": "forecast"},
        {"name": "broken", "description": "", "type": "mcp", "connection": "outside", "tool": "broken"},
    ]
    prompt = '[[call forecast {"city": "Oslo", "days": 2}]] [[call broken {"city": "Atlantis"}]]'
    with outside_mcp_url() as url:
        result = run_agent(fake_llm, agent_graph(prompt, tools, models=GROQ), mcp=_OutsideMcp(url))

    assert result.status == "succeeded", result.error_message
    offered = {t["function"]["name"]: t["function"] for t in fake_llm.requests[0].body["tools"]}
    assert offered["forecast"]["parameters"]["properties"]["city"]["type"] == "string"
    forecast, broken = [s for s in result.output["transcript"] if s["type"] == "tool"]
    assert forecast["result"] == {"city": "Oslo", "days": 2, "sky": "clear"}
    assert broken["error"] == "Error executing tool broken"  # the server's isError text


def test_a_gemini_failure_mid_conversation_continues_on_groq_with_the_transcript(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb()
    prompt = '[[call look {"city": "Oslo"}]] [[fail gemini 2 503]]'

    result = run_agent(fake_llm, agent_graph(prompt, [http_tool()], models=GEMINI + GROQ), web=web)

    assert result.status == "succeeded", result.error_message
    assert [r.provider for r in fake_llm.requests] == ["gemini", "gemini", "groq"]
    messages = fake_llm.requests[2].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["tool_calls"][0]["function"] == {"name": "look", "arguments": '{"city": "Oslo"}'}
    assert json.loads(messages[2]["content"])["result"]["body"]["city"] == "Oslo"
    assert [s.get("provider") for s in result.output["transcript"] if s["type"] == "model"] == [
        "gemini",
        "groq",
    ]


def test_cancelling_the_run_during_a_tool_call_stops_the_agent(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb(hold=True)
    cancel = threading.Event()
    threading.Thread(target=lambda: (wait_for(lambda: web.started), cancel.set()), daemon=True).start()
    graph = agent_graph('[[always look {"city": "Oslo"}]]', [http_tool()], models=GROQ)

    try:
        result = run_agent(fake_llm, graph, web=web, should_cancel=cancel.is_set)
    finally:
        web.release.set()

    assert result.status == "cancelled"
    assert len(fake_llm.requests) == 1


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ({"name": "bad name!", "type": "code"}, "tools[0].name"),
        ({"name": "w", "type": "workflow", "workflowId": "x"}, "tools[0].workflowId"),
        ({"name": "m", "type": "mcp", "connection": "", "tool": "t"}, "tools[0].connection"),
        ({"name": "h", "type": "http", "url": ""}, "tools[0].url"),
        ({"name": "s", "type": "shell"}, "tools[0].type"),
    ],
)
def test_a_tool_that_cannot_run_is_refused_at_validation(tool: dict, message: str) -> None:
    from engine import validate_graph

    issues = validate_graph(agent_graph("Go", [tool]))

    assert any(message in issue.path for issue in issues), issues


def test_two_tools_of_one_name_are_refused() -> None:
    from engine import validate_graph

    issues = validate_graph(agent_graph("Go", [http_tool(), http_tool()]))

    assert any(issue.message == "tool names must differ" for issue in issues)
