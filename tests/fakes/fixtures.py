"""Pytest fixtures around the fake LLM server; import `fake_llm` into a conftest.py to use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A running FakeLLMServer for one test (starting one takes about a millisecond)."""
    with FakeLLMServer() as server:
        yield server
        server.reset()  # ends hanging requests so abandoned client threads return promptly
