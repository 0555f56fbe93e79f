"""The LLM provider failing while several runs are in flight (500s, 429s, hanging), through a real Dramatiq
worker: every run ends, failed runs say why (the provider's error or the timeout), transient failures are
retried, and Gemini failing over to Groq keeps runs succeeding. The provider path, not the broker, is
under test here, so the worker serves a StubBroker in this process."""

from __future__ import annotations

import pytest

from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.brokers import drain
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import text_llm_chain

# Several worker threads write at once, as in production: against PostgreSQL.
pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]

RUNS = 6
ATTEMPTS = 2


@pytest.fixture
def provider(settings, fake_llm: FakeLLMServer) -> FakeLLMServer:
    settings.GEMINI_API_KEY = "fake-key"
    settings.GEMINI_BASE_URL = fake_llm.url
    settings.GROQ_API_KEY = None
    settings.LLM_MAX_ATTEMPTS = ATTEMPTS
    settings.LLM_TIMEOUT_SECONDS = 1
    return fake_llm


def _run_all(alice, broker, worker) -> list[WorkflowRun]:
    runs = [
        run_create(owner=alice, graph=text_llm_chain(2, text=f"run {i}"), enqueue=False) for i in range(RUNS)
    ]
    for run in runs:
        execute_run.send(str(run.id))
    drain(broker, worker)
    return [WorkflowRun.objects.get(pk=run.pk) for run in runs]


@pytest.mark.parametrize(
    ("failure", "kind", "reason"),
    [
        (500, "provider_error", "fake 500"),
        (429, "provider_error", "fake 429"),
        ("hang", "timeout", "timed out"),
    ],
)
def test_a_provider_that_keeps_failing_fails_every_run_with_its_reason(
    alice,
    provider: FakeLLMServer,
    broker,
    worker,
    failure: int | str,
    kind: str,
    reason: str,
):
    provider.hang_s = 300  # the fixture's teardown releases hanging requests
    provider.fail_next(
        "gemini", status=failure, times=RUNS * ATTEMPTS, retry_after=0 if failure == 429 else None
    )
    runs = _run_all(alice, broker, worker)

    for run in runs:
        assert run.status == RunStatus.FAILED
        assert reason in run.error_summary, run.error_summary
        llm = NodeResult.objects.get(run=run, node_id="b")
        assert (llm.status, llm.error_kind, llm.attempts) == ("failed", kind, ATTEMPTS)
        assert reason in llm.error_message
        assert "no fallback: no connection named 'groq'" in llm.error_message
        assert NodeResult.objects.filter(run=run).count() == 2
    assert len(provider.requests) == RUNS * ATTEMPTS
    # Every run ended while the server still held each of its hung requests: a hang costs an attempt its
    # timeout (1 s), never the hang's 300 s.
    assert provider.hanging == (RUNS * ATTEMPTS if failure == "hang" else 0)


def test_transient_429s_and_500s_are_retried_and_every_run_succeeds(
    alice,
    provider: FakeLLMServer,
    broker,
    worker,
    settings,
):
    # Failures go to whichever request comes next: one run may draw all four.
    settings.LLM_MAX_ATTEMPTS = 5
    provider.fail_next("gemini", status=429, times=2, retry_after=0)
    provider.fail_next("gemini", status=500, times=2)
    runs = _run_all(alice, broker, worker)

    assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
    attempts = NodeResult.objects.filter(run__in=runs, node_id="b").values_list("attempts", flat=True)
    assert sum(attempts) == RUNS + 4
    assert len(provider.requests) == RUNS + 4


def test_gemini_failing_falls_back_to_groq_and_every_run_succeeds(
    alice,
    provider: FakeLLMServer,
    broker,
    worker,
    settings,
):
    settings.GROQ_API_KEY = "fake-groq-key"
    settings.GROQ_BASE_URL = provider.url
    provider.fail_next("gemini", status=500, times=RUNS * ATTEMPTS)
    runs = _run_all(alice, broker, worker)

    assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
    results = NodeResult.objects.filter(run__in=runs, node_id="b")
    assert {(r.provider, r.attempts, r.output["text"]) for r in results} == {
        ("groq", ATTEMPTS + 1, f"echo: run {i}") for i in range(RUNS)
    }
    assert len(provider.requests_for("groq")) == RUNS
