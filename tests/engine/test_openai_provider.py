"""The real `openai` SDK against the fake server: chat completions streamed with usage, JSON, images, errors,
models, and model chains over connections."""

from __future__ import annotations

import base64

import openai
import pytest

from engine import ConnectionConfig, ImageData, LLMRequest, ProviderError, build_llm_client, provider_for
from tests.engine.helpers import config_for
from tests.fakes.llm_server import FakeLLMServer


def _mine(server: FakeLLMServer, **overrides) -> ConnectionConfig:
    fields = {"slug": "mine", "kind": "openai", "api_key": "sk-mine-1234", "base_url": server.openai_url}
    return ConnectionConfig(**(fields | overrides))


def _chain_client(server: FakeLLMServer, *connections: ConnectionConfig, sleeps: list[float] | None = None):
    record = sleeps if sleeps is not None else []
    return build_llm_client(config_for(server), connections=connections, sleep=record.append)


def test_a_streamed_answer_arrives_in_pieces_and_counts_its_tokens(fake_llm: FakeLLMServer) -> None:
    pieces: list[str] = []

    class Stream:
        def delta(self, text: str) -> None:
            pieces.append(text)

        def reset(self) -> None:
            pieces.clear()

    request = LLMRequest(
        prompt="Name an otter", system="Be brief", models=("mine/fake-chat",), temperature=0.2
    )
    response = _chain_client(fake_llm, _mine(fake_llm)).generate(request, stream=Stream())

    assert (response.text, response.provider, response.model) == (
        "echo: Name an otter",
        "openai",
        "fake-chat",
    )
    assert pieces == ["echo:", " Name", " an", " otter"]
    assert (response.input_tokens, response.output_tokens) == (3, 4)
    [sent] = fake_llm.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-mine-1234"
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Name an otter"},
    ]


def test_the_fake_answers_a_plain_request_with_usage_too(fake_llm: FakeLLMServer) -> None:
    client = openai.OpenAI(api_key="sk-x", base_url=fake_llm.openai_url, max_retries=0)

    answer = client.chat.completions.create(model="fake-chat", messages=[{"role": "user", "content": "hi"}])

    assert answer.choices[0].message.content == "echo: hi"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (1, 2)


def test_a_json_schema_is_asked_for_as_structured_output(fake_llm: FakeLLMServer) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    _chain_client(fake_llm, _mine(fake_llm)).generate(
        LLMRequest(prompt="an otter", models=("mine/fake-chat",), json_schema=schema)
    )

    assert fake_llm.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema},
    }


def test_images_go_as_data_url_parts(fake_llm: FakeLLMServer) -> None:
    request = LLMRequest(
        prompt="What?", models=("mine/fake-vision",), images=[ImageData(b"\x89PNG", "image/png")]
    )
    _chain_client(fake_llm, _mine(fake_llm)).generate(request)

    content = fake_llm.requests[0].body["messages"][-1]["content"]
    encoded = base64.b64encode(b"\x89PNG").decode()
    assert content == [
        {"type": "text", "text": "What?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
    ]


def test_extra_headers_reach_the_server(fake_llm: FakeLLMServer) -> None:
    connection = _mine(fake_llm, headers=(("X-Team", "otters"),))
    _chain_client(fake_llm, connection).generate(LLMRequest(prompt="hi", models=("mine/fake-chat",)))

    assert fake_llm.requests[0].headers["x-team"] == "otters"


def test_a_429_is_retried_after_the_servers_retry_after(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("openai", status=429, times=1, retry_after=0.03)
    sleeps: list[float] = []

    response = _chain_client(fake_llm, _mine(fake_llm), sleeps=sleeps).generate(
        LLMRequest(prompt="hi", models=("mine/fake-chat",))
    )

    assert (response.text, response.attempts) == ("echo: hi", 2)
    assert sleeps == [0.03]


def test_a_400_fails_at_once_with_the_providers_message(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("openai", status=400)

    with pytest.raises(ProviderError) as failed:
        _chain_client(fake_llm, _mine(fake_llm)).generate(LLMRequest(prompt="hi", models=("mine/fake-chat",)))

    assert failed.value.kind == "provider_error"
    assert "fake 400" in failed.value.message
    assert "sk-mine" not in failed.value.message
    assert len(fake_llm.requests) == 1


def test_the_chain_falls_through_three_connections_in_order(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("openai", status=500, times=3)
    fake_llm.fail_next("groq", status=503, times=3)
    connections = (
        _mine(fake_llm),
        ConnectionConfig("fast", "groq", "groq-key", fake_llm.url),
        ConnectionConfig("big", "gemini", "gem-key", fake_llm.url),
    )
    logs: list[tuple[str, str]] = []

    response = _chain_client(fake_llm, *connections).generate(
        LLMRequest(
            prompt="hi", models=("mine/fake-chat", "fast/llama-3.3-70b-versatile", "big/gemini-2.5-pro")
        ),
        log=lambda level, message: logs.append((level, message)),
    )

    assert [r.provider for r in fake_llm.requests] == ["openai"] * 3 + ["groq"] * 3 + ["gemini"]
    assert (response.provider, response.model, response.attempts) == ("gemini", "gemini-2.5-pro", 7)
    assert "falling back to fast/llama-3.3-70b-versatile" in logs[2][1]
    assert "falling back to big/gemini-2.5-pro" in logs[-1][1]


def test_a_chain_naming_a_missing_connection_fails_before_any_call(fake_llm: FakeLLMServer) -> None:
    with pytest.raises(ProviderError) as failed:
        _chain_client(fake_llm, _mine(fake_llm)).generate(
            LLMRequest(prompt="hi", models=("mine/fake-chat", "gone/some-model"))
        )

    assert (failed.value.kind, failed.value.message) == (
        "connection_missing",
        "no connection named 'gone' (for gone/some-model)",
    )
    assert fake_llm.requests == []


def test_a_refused_connection_says_why(fake_llm: FakeLLMServer) -> None:
    refused = _mine(fake_llm, refusal="127.0.0.1 is a loopback address (not in PROVIDER_ALLOWED_NETWORKS)")

    with pytest.raises(ProviderError) as failed:
        _chain_client(fake_llm, refused).generate(LLMRequest(prompt="hi", models=("mine/fake-chat",)))

    assert failed.value.kind == "connection_refused"
    assert "loopback" in failed.value.message
    assert fake_llm.requests == []


def test_models_are_listed_and_a_bad_key_is_reported(fake_llm: FakeLLMServer) -> None:
    provider = provider_for(_mine(fake_llm), timeout_s=2.0)
    assert provider.list_models() == ["fake-chat", "fake-vision"]

    fake_llm.fail_next("openai", status=401)
    with pytest.raises(Exception, match="HTTP 401: fake 401"):
        provider.list_models()


def test_a_connection_key_never_appears_in_its_repr(fake_llm: FakeLLMServer) -> None:
    assert "sk-mine-1234" not in repr(_mine(fake_llm, headers=(("X-Token", "hidden-value"),)))
    assert "hidden-value" not in repr(_mine(fake_llm, headers=(("X-Token", "hidden-value"),)))


def test_a_default_chain_leaves_out_connections_that_are_not_there_and_says_so(
    fake_llm: FakeLLMServer,
) -> None:
    fake_llm.fail_next("openai", status=500, times=3)
    request = LLMRequest(prompt="hi", models=("mine/fake-chat", "gone/model"), skip_missing_connections=True)

    with pytest.raises(ProviderError) as failed:
        _chain_client(fake_llm, _mine(fake_llm)).generate(request)

    assert failed.value.kind == "provider_error"
    assert failed.value.message.endswith("(no fallback: no connection named 'gone')")
