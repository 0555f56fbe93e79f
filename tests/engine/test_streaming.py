"""Streamed answers: the real SDKs against the fake server sending its answer word by word."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine import (
    ExecutionContext,
    LLMRequest,
    MemorySink,
    NodeFinished,
    NodeStarted,
    NodeToken,
    NodeTokensReset,
    build_llm_client,
    execute_graph,
)
from tests.engine.helpers import config_for
from tests.fakes.llm_server import FakeLLMServer, split_words
from tests.graphs import edge, graph, node

LONG_PROMPT = "tell me a story about an otter who learned to swim upstream"


@dataclass
class RecordingStream:
    events: list[tuple[str, str]] = field(default_factory=list)

    def delta(self, text: str) -> None:
        self.events.append(("delta", text))

    def reset(self) -> None:
        self.events.append(("reset", ""))

    def text(self) -> str:
        """What a client keeping the text and discarding it on reset shows."""
        shown = ""
        for kind, text in self.events:
            shown = "" if kind == "reset" else shown + text
        return shown


@pytest.mark.parametrize("provider", ["gemini", "groq"])
def test_each_provider_streams_its_answer_in_chunks(fake_llm: FakeLLMServer, provider: str) -> None:
    config = config_for(fake_llm, gemini_api_key=None) if provider == "groq" else config_for(fake_llm)
    stream = RecordingStream()

    response = build_llm_client(config).generate(LLMRequest(prompt=LONG_PROMPT), stream=stream)

    expected = f"echo: {LONG_PROMPT}"
    assert [text for _, text in stream.events] == split_words(expected)
    assert len(stream.events) > 5
    assert response.text == expected == stream.text()
    assert response.provider == provider
    assert (response.input_tokens, response.output_tokens) == (12, 13)
    assert [c.text for c in fake_llm.chunks_sent] == split_words(expected)


def test_a_fallback_after_partial_output_resets_and_keeps_only_the_final_text(
    fake_llm: FakeLLMServer,
) -> None:
    fake_llm.fail_next("gemini", status="cut")
    stream = RecordingStream()

    response = build_llm_client(config_for(fake_llm, max_attempts=1)).generate(
        LLMRequest(prompt=LONG_PROMPT), stream=stream
    )

    kinds = [kind for kind, _ in stream.events]
    reset_at = kinds.index("reset")
    assert 0 < reset_at < len(kinds) - 1  # partial text first, then the reset, then groq's answer
    assert kinds.count("reset") == 1
    assert response.provider == "groq"
    assert response.text == f"echo: {LONG_PROMPT}" == stream.text()


def test_a_retry_after_partial_output_resets_too(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status="cut")
    stream = RecordingStream()

    response = build_llm_client(config_for(fake_llm)).generate(LLMRequest(prompt=LONG_PROMPT), stream=stream)

    assert [kind for kind, _ in stream.events].count("reset") == 1
    assert (response.provider, response.attempts) == ("gemini", 2)
    assert response.text == stream.text()


def test_tokens_are_events_between_the_node_start_and_its_result(fake_llm: FakeLLMServer) -> None:
    g = graph([node("q", "text", text=LONG_PROMPT), node("l", "llm")], [edge("q", "l", None, "prompt")])
    sink = MemorySink()

    outcome = execute_graph(
        g, context=ExecutionContext(llm=build_llm_client(config_for(fake_llm))), sink=sink
    )

    node_events = [e for e in sink.events if getattr(e, "node_id", None) == "l" or _finished(e, "l")]
    assert isinstance(node_events[0], NodeStarted)
    assert isinstance(node_events[-1], NodeFinished)
    tokens = [e for e in node_events[1:-1] if isinstance(e, NodeToken)]
    assert len(tokens) == len(node_events) - 2 > 5
    assert "".join(t.text for t in tokens) == outcome.results["l"].output["text"]
    assert not sink.of_type(NodeTokensReset)


def _finished(event: object, node_id: str) -> bool:
    return isinstance(event, NodeFinished) and event.result.node_id == node_id


def test_a_structured_answer_asked_again_resets_the_streamed_text(fake_llm: FakeLLMServer) -> None:
    answers = iter(['{"name": 42}', '{"name": "Otto"}'])  # the first does not match the schema
    fake_llm.reply = lambda provider, body: next(answers)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    g = graph(
        [node("q", "text", text="Name an otter"), node("l", "llm", jsonSchema=schema)],
        [edge("q", "l", "text", "prompt")],
    )
    sink = MemorySink()

    outcome = execute_graph(
        g, context=ExecutionContext(llm=build_llm_client(config_for(fake_llm))), sink=sink
    )

    shown = ""
    for event in sink.events:
        if isinstance(event, NodeTokensReset):
            shown = ""
        elif isinstance(event, NodeToken):
            shown += event.text
    assert len(sink.of_type(NodeTokensReset)) == 1
    assert outcome.results["l"].output["json"] == {"name": "Otto"}
    assert shown == outcome.results["l"].output["text"] == '{"name": "Otto"}'
