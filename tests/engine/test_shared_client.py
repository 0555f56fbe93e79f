"""One LLM client per process, shared by concurrent runs: reuse, rebuild on new settings, thread safety."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import LLMRequest, shared_llm_client
from tests.engine.helpers import config_for
from tests.fakes.llm_server import FakeLLMServer, prompt_text

THREADS = 24
CALLS_PER_THREAD = 5


def test_the_same_settings_give_the_same_client_and_new_settings_a_new_one(fake_llm: FakeLLMServer) -> None:
    first = shared_llm_client(config_for(fake_llm))
    assert shared_llm_client(config_for(fake_llm)) is first
    changed = shared_llm_client(config_for(fake_llm, timeout_s=3.0))
    assert changed is not first
    assert changed.config.timeout_s == 3.0
    assert shared_llm_client(config_for(fake_llm, timeout_s=3.0)) is changed


@pytest.mark.parametrize("provider", ["gemini", "groq"])
def test_many_threads_calling_through_one_shared_client_each_get_their_own_answer(
    fake_llm: FakeLLMServer, provider: str
) -> None:
    only = {"groq_api_key": None} if provider == "gemini" else {"gemini_api_key": None}
    # 24 threads on a loaded 2-core machine can wait past the usual 2 s: a timeout's retry is not the subject.
    client = shared_llm_client(config_for(fake_llm, timeout_s=30.0, **only))

    def calls(thread: int) -> list[tuple[str, str]]:
        answers = []
        for call in range(CALLS_PER_THREAD):
            prompt = f"thread {thread} call {call}"
            response = client.generate(LLMRequest(prompt=prompt))
            answers.append((prompt, response.text))
            assert (response.provider, response.attempts) == (provider, 1)
        return answers

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = [answer for answers in pool.map(calls, range(THREADS)) for answer in answers]

    assert len(results) == THREADS * CALLS_PER_THREAD
    assert all(text == f"echo: {prompt}" for prompt, text in results)
    sent = sorted(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    assert sent == sorted(prompt for prompt, _ in results)


def test_gemini_calls_run_without_automatic_function_calling_or_info_logs(
    fake_llm: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = shared_llm_client(config_for(fake_llm, groq_api_key=None))
    with caplog.at_level(logging.INFO, logger="google_genai"):
        response = client.generate(LLMRequest(prompt="hi"))
    assert response.text == "echo: hi"
    assert not [r.getMessage() for r in caplog.records if "AFC" in r.getMessage()]
    # Switching it off happens in the SDK: nothing about it goes over the wire.
    assert "toolConfig" not in fake_llm.requests[0].body
    assert "automaticFunctionCalling" not in str(fake_llm.requests[0].body)
