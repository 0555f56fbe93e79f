"""The real google-genai and groq SDKs against the local fake server: formats, retries, fallback."""

from __future__ import annotations

import base64

import pytest

from engine import ImageData, LLMRequest, ProviderConfig, ProviderError, build_llm_client
from tests.engine.helpers import config_for
from tests.fakes.llm_server import FakeLLMServer


def test_gemini_answers_with_text_and_usage(fake_llm: FakeLLMServer) -> None:
    client = build_llm_client(config_for(fake_llm))
    request = LLMRequest(
        prompt="Name an otter",
        system="Be brief",
        model="gemini-2.5-pro",
        temperature=0.3,
        max_output_tokens=50,
    )
    response = client.generate(request)
    assert (response.text, response.provider, response.model, response.attempts) == (
        "echo: Name an otter",
        "gemini",
        "gemini-2.5-pro",
        1,
    )
    assert (response.input_tokens, response.output_tokens) == (3, 4)
    [sent] = fake_llm.requests
    assert sent.path == "/v1/models/gemini-2.5-pro:streamGenerateContent"
    assert sent.headers["x-goog-api-key"] == "gem-key"
    assert sent.body["contents"] == [{"parts": [{"text": "Name an otter"}], "role": "user"}]
    assert sent.body["systemInstruction"]["parts"] == [{"text": "Be brief"}]
    assert sent.body["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 50}


def test_gemini_receives_images_inline(fake_llm: FakeLLMServer) -> None:
    client = build_llm_client(config_for(fake_llm))
    client.generate(LLMRequest(prompt="What is it?", images=[ImageData(b"\x89PNG", "image/png")]))
    parts = fake_llm.requests[0].body["contents"][0]["parts"]
    assert parts[0] == {
        "inlineData": {"data": base64.b64encode(b"\x89PNG").decode(), "mime_type": "image/png"}
    }
    assert parts[1] == {"text": "What is it?"}


def test_retries_on_429_and_500_then_succeeds(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status=429, times=1)
    fake_llm.fail_next("gemini", status=500, times=1)
    logs: list[tuple[str, str]] = []
    response = build_llm_client(config_for(fake_llm)).generate(
        LLMRequest(prompt="hi"), log=lambda level, message: logs.append((level, message))
    )
    assert (response.provider, response.attempts) == ("gemini", 3)
    assert [r.provider for r in fake_llm.requests] == ["gemini"] * 3
    assert [level for level, _ in logs] == ["warning", "warning"]
    assert "HTTP 429" in logs[0][1]


def test_retry_after_is_honoured_up_to_the_backoff_cap(fake_llm: FakeLLMServer) -> None:
    delays: list[float] = []
    fake_llm.fail_next("gemini", status=429, times=2, retry_after=0.04)
    fake_llm.fail_next("gemini", status=429, times=1, retry_after=120)
    client = build_llm_client(config_for(fake_llm, max_attempts=4), sleep=delays.append)
    client.generate(LLMRequest(prompt="hi"))
    assert delays == [0.04, 0.04, 0.05]


def test_backoff_grows_exponentially_with_jitter(fake_llm: FakeLLMServer) -> None:
    delays: list[float] = []
    fake_llm.fail_next("gemini", status=503, times=3)
    client = build_llm_client(
        config_for(fake_llm, max_attempts=4, backoff_base_s=1.0, backoff_max_s=3.0), sleep=delays.append
    )
    client.generate(LLMRequest(prompt="hi"))
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    assert 1.5 <= delays[2] <= 3.0


def test_exhausted_retries_fall_back_to_groq(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status=500, times=3)
    logs: list[tuple[str, str]] = []
    response = build_llm_client(config_for(fake_llm)).generate(
        LLMRequest(prompt="hello there", system="sys"), log=lambda *entry: logs.append(entry)
    )
    assert (response.text, response.provider, response.model, response.attempts) == (
        "echo: hello there",
        "groq",
        "llama-3.3-70b-versatile",
        4,
    )
    assert (response.input_tokens, response.output_tokens) == (2, 3)
    groq = fake_llm.requests_for("groq")[0]
    assert groq.headers["authorization"] == "Bearer groq-key"
    assert groq.body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hello there"},
    ]
    assert "falling back to groq" in logs[-1][1]


def test_timeouts_are_retried_then_fall_back(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status="hang", times=2)
    client = build_llm_client(config_for(fake_llm, timeout_s=0.2, max_attempts=2))
    response = client.generate(LLMRequest(prompt="hi"))
    assert (response.provider, response.attempts) == ("groq", 3)


def test_image_requests_fall_back_to_a_groq_vision_model(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status=500, times=3)
    client = build_llm_client(config_for(fake_llm))
    response = client.generate(LLMRequest(prompt="What?", images=[ImageData(b"img", "image/jpeg")]))
    assert response.model == "meta-llama/llama-4-scout-17b-16e-instruct"
    content = fake_llm.requests_for("groq")[0].body["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "What?"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(b"img").decode()},
        },
    ]


def test_other_4xx_fail_fast_without_fallback(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status=400)
    with pytest.raises(ProviderError) as raised:
        build_llm_client(config_for(fake_llm)).generate(LLMRequest(prompt="hi"))
    assert raised.value.kind == "provider_error"
    assert raised.value.message.startswith("gemini rejected the request: HTTP 400")
    assert raised.value.attempts == 1
    assert len(fake_llm.requests) == 1


def test_all_providers_failing_is_one_error(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("gemini", status=500, times=3)
    fake_llm.fail_next("groq", status=429, times=3)
    with pytest.raises(ProviderError) as raised:
        build_llm_client(config_for(fake_llm)).generate(LLMRequest(prompt="hi"))
    assert raised.value.kind == "provider_error"
    assert raised.value.attempts == 6
    assert "gemini gemini-2.5-flash: HTTP 500" in raised.value.message
    assert "groq llama-3.3-70b-versatile: HTTP 429" in raised.value.message


def test_only_the_provider_with_a_key_is_used(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("groq", status=500, times=3)
    client = build_llm_client(config_for(fake_llm, gemini_api_key=None))
    with pytest.raises(ProviderError) as raised:
        client.generate(LLMRequest(prompt="hi"))
    assert "(no fallback: GEMINI_API_KEY is not set)" in raised.value.message
    assert {r.provider for r in fake_llm.requests} == {"groq"}


def test_missing_keys_name_the_variables() -> None:
    with pytest.raises(ProviderError) as raised:
        build_llm_client(ProviderConfig()).generate(LLMRequest(prompt="hi"))
    assert raised.value.kind == "configuration"
    assert "GEMINI_API_KEY" in raised.value.message
    assert "GROQ_API_KEY" in raised.value.message


def test_llm_node_end_to_end_through_the_fake_server(fake_llm: FakeLLMServer) -> None:
    from engine import ExecutionContext, MemorySink, execute_graph
    from tests.graphs import edge, graph, node

    fake_llm.fail_next("gemini", status=429, times=3)
    g = graph(
        [node("q", "text", text="Say hi"), node("l", "llm", systemPrompt="Be kind")],
        [edge("q", "l", None, "prompt")],
    )
    context = ExecutionContext(llm=build_llm_client(config_for(fake_llm)))
    result = execute_graph(g, context=context, sink=MemorySink()).results["l"]
    assert result.output == {"text": "echo: Say hi"}
    assert (result.provider, result.model, result.attempts) == ("groq", "llama-3.3-70b-versatile", 4)
