"""The fake LLM server other suites rely on: routes, scripted failures and the request record."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.fakes.llm_server import FakeLLMServer


def post(server: FakeLLMServer, path: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_v1beta_gemini_route_and_custom_reply(fake_llm: FakeLLMServer) -> None:
    fake_llm.reply = lambda provider, body: f"{provider} says hi"
    status, _, body = post(
        fake_llm, "/v1beta/models/m:generateContent", {"contents": [{"parts": [{"text": "x"}]}]}
    )
    assert status == 200
    assert body["candidates"][0]["content"]["parts"][0]["text"] == "gemini says hi"
    assert fake_llm.requests[0].model == "m"


def test_scripted_failures_carry_retry_after_and_are_consumed(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next("groq", status=429, retry_after=2)
    first = post(fake_llm, "/openai/v1/chat/completions", {"model": "g", "messages": []})
    second = post(fake_llm, "/openai/v1/chat/completions", {"model": "g", "messages": []})
    assert (first[0], first[1]["Retry-After"], second[0]) == (429, "2", 200)


def test_unknown_routes_and_providers(fake_llm: FakeLLMServer) -> None:
    assert post(fake_llm, "/nope", {})[0] == 404
    with pytest.raises(ValueError, match="provider"):
        fake_llm.fail_next("anthropic")
