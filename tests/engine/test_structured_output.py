"""LLM structured output through the real SDKs against the fake server: valid, repaired, invalid twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import ExecutionContext, MemorySink, NodeStatus, ProviderConfig, build_llm_client, execute_graph
from engine.providers.chat import JSON_INSTRUCTION
from tests.fakes.llm_server import FakeLLMServer, prompt_text
from tests.graphs import edge, graph, node

SCHEMA = {
    "type": "object",
    "properties": {"category": {"enum": ["bug", "question"]}, "urgent": {"type": "boolean"}},
    "required": ["category", "urgent"],
}
SCHEMA_ANSWER = {"category": "bug", "urgent": True}


def classify_graph(**llm_data: Any) -> dict[str, list]:
    """Text -> LLM (with SCHEMA) whose json output feeds a Debug node and a Prompt (as text)."""
    return graph(
        [
            node("ticket", "text", text="The app crashes on start"),
            node("classify", "llm", jsonSchema=SCHEMA, **llm_data),
            node("seen", "debug"),
            node("say", "prompt", template="Class: {{c}}"),
        ],
        [
            edge("ticket", "classify", "text", "prompt"),
            edge("classify", "seen", "json", "value"),
            edge("classify", "say", "json", "c"),
        ],
    )


def run_against(server: FakeLLMServer, replies: list[str], *, provider: str = "gemini") -> Any:
    """Run `classify_graph` with `provider` only; the fake answers `replies` in turn."""
    answers = iter(replies)
    server.reply = lambda _provider, _body: next(answers)
    keys = {"gemini_api_key": "gem-key"} if provider == "gemini" else {"groq_api_key": "groq-key"}
    config = ProviderConfig(
        **keys, gemini_base_url=server.url, groq_base_url=server.url, timeout_s=5.0, max_attempts=1
    )
    context = ExecutionContext(llm=build_llm_client(config))
    return execute_graph(classify_graph(), context=context, sink=MemorySink())


@pytest.mark.parametrize("provider", ["gemini", "groq"])
def test_a_valid_answer_becomes_the_json_output(fake_llm: FakeLLMServer, provider: str) -> None:
    outcome = run_against(fake_llm, ['{"category": "bug", "urgent": true}'], provider=provider)

    assert outcome.status.value == "succeeded"
    classify = outcome.results["classify"]
    assert classify.output == {"text": '{"category": "bug", "urgent": true}', "json": SCHEMA_ANSWER}
    assert outcome.results["seen"].inputs == {"value": SCHEMA_ANSWER}
    # json reaches a text input as compact JSON text.
    assert outcome.results["say"].output == {"text": 'Class: {"category":"bug","urgent":true}'}
    [sent] = fake_llm.requests
    assert sent.provider == provider
    if provider == "gemini":
        config = sent.body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert config["responseJsonSchema"] == SCHEMA
    else:
        assert sent.body["response_format"] == {"type": "json_object"}
        system = sent.body["messages"][0]
        assert system["role"] == "system"
        assert system["content"] == JSON_INSTRUCTION + json.dumps(SCHEMA)


def test_an_invalid_answer_is_repaired_with_one_retry_naming_the_error(fake_llm: FakeLLMServer) -> None:
    outcome = run_against(fake_llm, ['{"category": "feature", "urgent": true}', json.dumps(SCHEMA_ANSWER)])

    classify = outcome.results["classify"]
    assert classify.status is NodeStatus.succeeded
    assert classify.output["json"] == SCHEMA_ANSWER
    first, second = fake_llm.requests
    assert prompt_text("gemini", first.body) == "The app crashes on start"
    repair = prompt_text("gemini", second.body)
    assert repair.startswith("The app crashes on start\n\nYour previous answer was:\n")
    assert '{"category": "feature", "urgent": true}' in repair
    assert "$.category" in repair
    assert "'feature' is not one of ['bug', 'question']" in repair
    assert second.body["generationConfig"]["responseJsonSchema"] == SCHEMA
    # Usage adds up both calls.
    assert classify.attempts == 2
    assert classify.output_tokens == 4 + 4  # the fake counts the words of each answer


def test_an_answer_that_is_not_json_is_repaired_too(fake_llm: FakeLLMServer) -> None:
    outcome = run_against(fake_llm, ["Sure! It is a bug.", json.dumps(SCHEMA_ANSWER)], provider="groq")

    assert outcome.results["classify"].output["json"] == SCHEMA_ANSWER
    assert "the answer is not JSON" in prompt_text("groq", fake_llm.requests[1].body)


def test_an_answer_invalid_twice_fails_the_node_and_skips_what_needs_it(fake_llm: FakeLLMServer) -> None:
    outcome = run_against(fake_llm, ['{"category": "bug"}', '{"category": "bug"}', "unused"])

    classify = outcome.results["classify"]
    assert classify.status is NodeStatus.failed
    assert classify.error_kind == "invalid_output"
    assert "'urgent' is a required property" in classify.error_message
    assert classify.attempts == 2
    assert classify.input_tokens is not None
    assert classify.output_tokens == 2 + 2
    assert len(fake_llm.requests) == 2
    assert {outcome.results[n].error_kind for n in ("seen", "say")} == {"upstream_failed"}
    assert outcome.status.value == "failed"


def test_without_a_schema_the_request_asks_for_no_json(fake_llm: FakeLLMServer) -> None:
    config = ProviderConfig(gemini_api_key="k", gemini_base_url=fake_llm.url, max_attempts=1, timeout_s=5.0)
    g = graph([node("t", "text", text="hi"), node("l", "llm")], [edge("t", "l", "text", "prompt")])

    outcome = execute_graph(g, context=ExecutionContext(llm=build_llm_client(config)), sink=MemorySink())

    assert outcome.results["l"].output == {"text": "echo: hi"}
    assert "responseMimeType" not in fake_llm.requests[0].body["generationConfig"]


def test_a_schema_pattern_is_checked_and_time_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.kinds import structured
    from engine.kinds.base import NodeError

    assert structured.answer_problem('"abc"', {"pattern": "^a"}) == ("abc", None)
    assert structured.answer_problem('"xbc"', {"pattern": "^a"}) == ("xbc", "at $: 'xbc' does not match '^a'")
    monkeypatch.setattr(structured, "PATTERN_TIME_LIMIT_S", 0.05)
    with pytest.raises(NodeError) as caught:
        structured.answer_problem(json.dumps("a" * 40 + "b"), {"pattern": "(a|aa)+$"})
    assert caught.value.kind == "timeout"
    assert caught.value.message == "the JSON Schema's pattern '(a|aa)+$' ran past 0.05 s"


def test_pattern_properties_are_refused_in_a_json_schema() -> None:
    from engine import validate_graph

    schema = {"type": "object", "properties": {"x": {"patternProperties": {"^a": {}}}}}
    g = graph(
        [node("t", "text", text="x"), node("l", "llm", jsonSchema=schema)], [edge("t", "l", "text", "prompt")]
    )
    assert [(i.path, i.message) for i in validate_graph(g)] == [
        (
            "nodes[1].data.jsonSchema",
            "patternProperties is not supported: list the properties, or use pattern on values",
        )
    ]
    # A property that happens to be named patternProperties is fine.
    g["nodes"][1]["data"]["jsonSchema"] = {"properties": {"patternProperties": {"type": "string"}}}
    assert validate_graph(g) == []


def test_the_token_reservation_covers_the_schema_and_a_repair_call() -> None:
    from engine.kinds import get_kind
    from engine.kinds.structured import REPAIR_TOKENS

    llm = get_kind("llm")
    assert llm is not None
    data = {"maxOutputTokens": 100, "systemPrompt": ""}
    inputs = {"prompt": "x" * 400}
    assert llm.token_estimate(data, inputs) == (100, 100)
    schema_tokens = -(-len('{"type":"object"}') // 4)
    assert llm.token_estimate({**data, "jsonSchema": {"type": "object"}}, inputs) == (
        2 * (100 + schema_tokens) + 100 + REPAIR_TOKENS,
        200,
    )
