"""Fixtures for the runs app: a private StubBroker per test, a real Dramatiq worker, graphs, LLM wiring."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from rest_framework.test import APIClient

from accounts.services import api_token_create
from runs.tasks import execute_run
from tests.brokers import private_stub_broker
from tests.factories import UserFactory
from tests.fakes.fixtures import fake_llm  # noqa: F401  (the fixture)
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture(autouse=True)
def broker() -> Iterator[StubBroker]:
    """Every test gets its own StubBroker, so no message reaches a real broker or another test."""
    with private_stub_broker() as stub:
        yield stub


@pytest.fixture
def worker(broker: StubBroker) -> Iterator[dramatiq.Worker]:
    """A real Dramatiq worker (2 threads) on the test's StubBroker; use with transactional_db."""
    running = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    running.start()
    yield running
    running.stop()


def drain(broker: StubBroker, worker: dramatiq.Worker) -> None:
    broker.join(execute_run.queue_name, fail_fast=True, timeout=30_000)
    worker.join()


@pytest.fixture
def mallory(db):
    return UserFactory(email="mallory@example.com")


@pytest.fixture
def alice_token(alice) -> str:
    return api_token_create(user=alice, name="tests").secret


@pytest.fixture
def alice_token_client(alice_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    return client


@pytest.fixture
def llm_settings(settings, fake_llm: FakeLLMServer) -> FakeLLMServer:  # noqa: F811
    """Point the Gemini provider at the fake server (one attempt, short timeout)."""
    settings.GEMINI_API_KEY = "fake-key"
    settings.GEMINI_BASE_URL = fake_llm.url
    settings.GROQ_API_KEY = None
    settings.LLM_MAX_ATTEMPTS = 1
    settings.LLM_TIMEOUT_SECONDS = 10
    return fake_llm


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
