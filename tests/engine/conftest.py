"""Engine test fixtures: the fake LLM server and an in-memory LLM client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine import ExecutionContext, MemorySink
from tests.engine.helpers import ScriptedLLM


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    client = ScriptedLLM()
    yield client
    client.release()  # let blocked worker threads finish


@pytest.fixture
def context(llm: ScriptedLLM) -> ExecutionContext:
    return ExecutionContext(llm=llm)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()
