"""An Agent's limits, each counted at the fakes: the model calls the fake LLM server received and the tool
calls the fake web received. No limit lets one call more through than it allows; crossing one fails the node
with kind `agent_limit` naming the limit, and the failed node keeps its transcript."""

from __future__ import annotations

import re
from decimal import Decimal

from engine import PriceTable, RunOptions
from engine.costs import Price
from tests.engine.agents import RecordingWeb, agent_graph, http_tool, run_agent
from tests.fakes.llm_server import FakeLLMServer

ALWAYS = '[[always look {"city": "Oslo"}]]'
THREE_ALWAYS = " ".join(f'[[always look {{"city": "{city}"}}]]' for city in ("Oslo", "Rome", "Lima"))


def test_max_iterations_stops_at_exactly_that_many_model_calls_and_keeps_the_transcript(
    fake_llm: FakeLLMServer,
) -> None:
    web = RecordingWeb()

    result = run_agent(fake_llm, agent_graph(ALWAYS, [http_tool()], maxIterations=3), web=web)

    assert (result.status, result.error_kind) == ("failed", "agent_limit")
    assert result.error_message.startswith("maxIterations")
    assert len(fake_llm.requests) == 3
    steps = result.output["transcript"]
    assert [s["type"] for s in steps] == ["model", "tool"] * 3
    assert result.input_tokens == 30  # the three calls' usage is kept with the failure


def test_max_tool_calls_lets_exactly_that_many_calls_through(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()

    result = run_agent(fake_llm, agent_graph(THREE_ALWAYS, [http_tool()], maxToolCalls=4), web=web)

    assert (result.status, result.error_kind) == ("failed", "agent_limit")
    assert result.error_message.startswith("maxToolCalls")
    assert len(web.started) == 4
    assert len(fake_llm.requests) == 2


def test_max_tool_calls_of_zero_makes_no_tool_call(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()

    result = run_agent(fake_llm, agent_graph(ALWAYS, [http_tool()], maxToolCalls=0), web=web)

    assert result.error_kind == "agent_limit"
    assert web.started == []


def test_max_tokens_refuses_the_call_whose_reservation_would_cross_it(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()
    graph = agent_graph(ALWAYS, [http_tool()], maxTokens=300, maxOutputTokens=100)

    result = run_agent(fake_llm, graph, web=web)

    assert (result.status, result.error_kind) == ("failed", "agent_limit")
    used = result.input_tokens + result.output_tokens
    next_call, remain = map(int, re.findall(r"(\d+) (?:tokens|of)", result.error_message)[:2])
    assert used + next_call > 300 >= used
    assert remain == 300 - used
    assert len(fake_llm.requests) == sum(1 for s in result.output["transcript"] if s["type"] == "model")


def test_max_cost_refuses_the_call_whose_most_would_cross_it(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb()
    # $0.001 a token: a call of at most ~130 tokens may cost $0.13; each answer costs $0.015.
    prices = PriceTable({"groq": {"fake-chat": Price(Decimal(1000), Decimal(1000))}})
    graph = agent_graph(ALWAYS, [http_tool()], models=["groq/fake-chat"], maxCostUsd=0.2, maxOutputTokens=100)

    result = run_agent(fake_llm, graph, web=web, prices=prices)

    assert (result.status, result.error_kind) == ("failed", "agent_limit")
    assert result.error_message.startswith("maxCostUsd")
    models = [s for s in result.output["transcript"] if s["type"] == "model"]
    assert len(fake_llm.requests) == len(models) >= 2
    assert sum(s["cost"] for s in models) <= 0.2
    assert result.cost == Decimal("0.015") * len(models)


def test_max_cost_without_a_price_makes_no_call(fake_llm: FakeLLMServer) -> None:
    graph = agent_graph(ALWAYS, [http_tool()], models=["groq/unpriced"], maxCostUsd=1)

    result = run_agent(fake_llm, graph, web=RecordingWeb(), prices=PriceTable({}))

    assert result.error_kind == "agent_limit"
    assert "price of groq/unpriced is not known" in result.error_message
    assert fake_llm.requests == []


def test_timeout_stops_before_the_next_model_call(fake_llm: FakeLLMServer) -> None:
    web = RecordingWeb(delay_s=0.4)

    result = run_agent(fake_llm, agent_graph(ALWAYS, [http_tool()], timeoutSeconds=0.3), web=web)

    assert (result.status, result.error_kind) == ("failed", "agent_limit")
    assert result.error_message.startswith("timeoutSeconds")
    assert len(fake_llm.requests) == 1


def test_the_runs_llm_call_cap_counts_every_model_call_of_the_agent(fake_llm: FakeLLMServer) -> None:
    result = run_agent(
        fake_llm, agent_graph(ALWAYS, [http_tool()]), web=RecordingWeb(), options=RunOptions(max_llm_calls=2)
    )

    assert (result.status, result.error_kind) == ("failed", "cost_cap")
    assert len(fake_llm.requests) == 2
