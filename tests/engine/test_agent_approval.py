"""An Agent's tools with `requiresApproval` in the engine: the agent pauses before such a call with a
checkpoint of its conversation, the run waits, and executed again with the decisions it continues from the
checkpoint without repeating a model or tool call (counted at the fake LLM server and at the fake web)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from engine import (
    Decision,
    ExecutionContext,
    MemorySink,
    RunOutcome,
    ToolAnswered,
    build_llm_client,
    execute_graph,
    validate_graph,
)
from engine.events import ApprovalRequested
from tests.engine.agents import RecordingWeb, agent_graph, http_tool
from tests.engine.helpers import config_for
from tests.fakes.llm_server import FakeLLMServer

GROQ = ["groq/fake-chat"]
ALICE = "alice@example.com"


def approved_tool(name: str = "look", **terms: Any) -> dict[str, Any]:
    return {**http_tool(name), "requiresApproval": True, **terms}


class Desk:
    """The apps' side in miniature: the decisions people took and the checkpoints the waiting agents kept."""

    def __init__(self) -> None:
        self.decisions: dict[str, Decision] = {}
        self.checkpoints: dict[str, Mapping[str, Any]] = {}

    def decision(self, node_id: str) -> Decision | None:
        return self.decisions.get(node_id)

    def checkpoint(self, node_id: str) -> Mapping[str, Any] | None:
        return self.checkpoints.get(node_id)

    def keep(self, outcome: RunOutcome) -> None:
        for request in outcome.awaiting:
            if request.tool_call is not None and request.checkpoint is not None:
                self.checkpoints[request.tool_call.node_id] = request.checkpoint


class Run:
    """One run executed again after each decision, as the apps do: settled nodes are not run again."""

    def __init__(self, server: FakeLLMServer, graph: dict[str, Any], web: RecordingWeb) -> None:
        self.graph, self.web, self.desk = graph, web, Desk()
        self.llm = build_llm_client(config_for(server, max_attempts=1))
        self.finished: dict[str, dict[str, Any]] = {}
        self.sink = MemorySink()

    def execute(self) -> RunOutcome:
        self.sink = MemorySink()
        context = ExecutionContext(llm=self.llm, web=self.web, approvals=self.desk)
        outcome = execute_graph(self.graph, context=context, sink=self.sink, finished_outputs=self.finished)
        self.finished.update({node_id: r.output or {} for node_id, r in outcome.results.items()})
        self.desk.keep(outcome)
        return outcome

    def decide(self, approval_id: str, decision: str, comment: str = "") -> None:
        self.desk.decisions[approval_id] = Decision(decision, comment=comment, who=ALICE, when="2026-01-01")


def test_the_agent_makes_the_free_calls_then_waits_and_an_approved_call_is_made_once_without_asking_again(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb()
    prompt = '[[call look {"city": "Oslo"}]] [[call free {"city": "Rome"}]]'
    run = Run(fake_llm, agent_graph(prompt, [approved_tool(), http_tool("free")], models=GROQ), web)

    waiting = run.execute()

    assert waiting.status.value == "waiting"
    assert "agent" not in waiting.results
    [request] = waiting.awaiting
    assert request.node_id == "agent/call_1"
    assert request.subject == {"tool": "look", "arguments": {"city": "Oslo"}}
    assert "agent agent wants to call the tool look" in request.instructions
    assert (request.timeout_s, request.on_timeout) == (86400.0, "reject")
    assert run.sink.of_type(ApprovalRequested) == [request]
    assert web.started == ["http://weather.test/Rome"]  # the call that needs no one was made
    assert len(fake_llm.requests) == 1

    run.decide("agent/call_1", "approve")
    done = run.execute()

    assert done.status.value == "succeeded"
    assert len(fake_llm.requests) == 2  # the first model call was not made again
    assert web.started == ["http://weather.test/Rome", "http://weather.test/Oslo"]
    messages = fake_llm.requests[1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool"]
    steps = done.results["agent"].output["transcript"]
    assert [s["type"] for s in steps] == ["model", "tool", "approval", "tool", "model"]
    assert (steps[2]["decision"], steps[2]["who"], steps[3]["tool"]) == ("approve", ALICE, "look")
    result = done.results["agent"]
    assert result.input_tokens == sum(s.get("inputTokens", 0) for s in steps)  # both calls, across the pause


def test_a_rejected_call_is_an_error_result_for_the_model_which_goes_on(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()
    run = Run(fake_llm, agent_graph('[[call look {"city": "Oslo"}]]', [approved_tool()], models=GROQ), web)
    run.execute()

    run.decide("agent/call_1", "reject", "too risky")
    done = run.execute()

    assert done.status.value == "succeeded"
    assert web.started == []
    assert "rejected by alice@example.com: too risky" in fake_llm.requests[1].body["messages"][-1]["content"]
    [answered] = run.sink.of_type(ToolAnswered)
    assert answered.is_error
    assert answered.call_id == "call_1"
    steps = done.results["agent"].output["transcript"]
    assert [s["type"] for s in steps] == ["model", "approval", "model"]
    assert (steps[1]["decision"], steps[1]["comment"]) == ("reject", "too risky")


@pytest.mark.parametrize(
    ("on_timeout", "status", "calls_made"),
    [("reject", "succeeded", 0), ("approve", "succeeded", 1), ("fail", "failed", 0)],
)
def test_when_no_one_decides_the_tool_s_on_timeout_says_what_follows(
    fake_llm: FakeLLMServer, on_timeout: str, status: str, calls_made: int
) -> None:
    web = RecordingWeb()
    tool = approved_tool(approvalTimeoutSeconds=60, onTimeout=on_timeout)
    run = Run(fake_llm, agent_graph('[[call look {"city": "Oslo"}]]', [tool], models=GROQ), web)
    [request] = run.execute().awaiting
    assert (request.timeout_s, request.on_timeout) == (60.0, on_timeout)

    run.desk.decisions["agent/call_1"] = Decision("timeout")
    result = run.execute().results["agent"]

    assert result.status.value == status
    assert len(web.started) == calls_made
    if on_timeout == "fail":
        assert result.error_kind == "approval_timeout"
        assert [s["type"] for s in result.output["transcript"]] == ["model", "approval"]
        assert len(fake_llm.requests) == 1
    elif on_timeout == "reject":
        assert "no one approved the call within 60 s" in fake_llm.requests[1].body["messages"][-1]["content"]


def test_two_calls_of_one_turn_wait_together_and_the_agent_goes_on_once_both_are_decided(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb()
    prompt = '[[call look {"city": "Oslo"}]] [[call look {"city": "Rome"}]]'
    run = Run(fake_llm, agent_graph(prompt, [approved_tool()], models=GROQ), web)

    first = run.execute()
    assert [r.node_id for r in first.awaiting] == ["agent/call_1", "agent/call_2"]
    assert first.awaiting[0].checkpoint is first.awaiting[1].checkpoint

    run.decide("agent/call_2", "approve")
    still = run.execute()
    assert still.status.value == "waiting"
    assert [r.node_id for r in still.awaiting] == ["agent/call_1"]
    assert web.started == []
    assert len(fake_llm.requests) == 1

    run.decide("agent/call_1", "reject")
    done = run.execute()

    assert done.status.value == "succeeded"
    assert web.started == ["http://weather.test/Rome"]
    assert len(fake_llm.requests) == 2
    results = [m["content"] for m in fake_llm.requests[1].body["messages"] if m["role"] == "tool"]
    assert "rejected by alice@example.com" in results[0]
    assert "Rome" in results[1]


def test_limits_continue_from_the_checkpoint_exactly(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()
    graph = agent_graph('[[always look {"city": "Oslo"}]]', [approved_tool()], models=GROQ, maxIterations=2)
    run = Run(fake_llm, graph, web)

    assert run.execute().awaiting[0].node_id == "agent/call_1"
    run.decide("agent/call_1", "approve")
    assert run.execute().awaiting[0].node_id == "agent/call_2"  # the ids go on from the checkpoint's count
    run.decide("agent/call_2", "approve")
    result = run.execute().results["agent"]

    assert result.status.value == "failed"
    assert result.error_kind == "agent_limit"
    assert "maxIterations: the model was called 2 times" in (result.error_message or "")
    assert len(fake_llm.requests) == 2
    assert len(web.started) == 2


def test_the_time_limit_counts_the_time_the_agent_ran_not_the_time_it_waited(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()
    graph = agent_graph('[[call look {"city": "Oslo"}]]', [approved_tool()], models=GROQ, timeoutSeconds=30)
    run = Run(fake_llm, graph, web)
    run.execute()
    [checkpoint] = run.desk.checkpoints.values()
    assert 0 <= checkpoint["elapsedSeconds"] < 30

    run.decide("agent/call_1", "approve")
    # The agent had run for its whole 30 s before it paused: the model is not called again.
    run.desk.checkpoints["agent"] = {**checkpoint, "elapsedSeconds": 30.0}
    result = run.execute().results["agent"]

    assert result.error_kind == "agent_limit"
    assert "timeoutSeconds" in (result.error_message or "")
    assert len(fake_llm.requests) == 1
    assert len(web.started) == 1


def test_arguments_that_break_the_schema_are_the_model_s_error_and_ask_no_one(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb()
    prompt = '[[call look {"town": "Oslo"}]]'  # `city` is required
    run = Run(fake_llm, agent_graph(prompt, [approved_tool()], models=GROQ), web)

    outcome = run.execute()

    assert outcome.status.value == "succeeded"
    assert outcome.awaiting == []


@pytest.mark.parametrize(
    ("terms", "path"),
    [
        ({"requiresApproval": "yes"}, "tools[0].requiresApproval"),
        ({"approvalTimeoutSeconds": 0}, "tools[0].approvalTimeoutSeconds"),
        ({"onTimeout": "shrug"}, "tools[0].onTimeout"),
    ],
)
def test_approval_terms_are_validated(terms: dict[str, Any], path: str) -> None:
    issues = validate_graph(agent_graph("Go", [{**http_tool(), **terms}]))

    assert any(issue.path.endswith(path) for issue in issues), issues


def test_a_tool_that_requires_approval_is_valid_and_makes_the_agent_not_reusable() -> None:
    from engine.kinds.agent import AgentKind

    tool = {"name": "c", "type": "code", "requiresApproval": True}

    assert validate_graph(agent_graph("Go", [tool])) == []
    assert not AgentKind().reusable({"temperature": 0, "tools": [tool]})
