"""Redis restarted (losing every queued message) while runs are in flight: real worker processes and the
runs' own recovery still bring every run to a final state, each node with exactly one result."""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from dramatiq.brokers.redis import RedisBroker

from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.fakes.llm_server import FakeLLMServer, prompt_text
from tests.reliability.services import PrivateRedis
from tests.runs.conftest import wait_for
from tests.runs.graphs import text_llm_chain
from tests.runs.processes import child_env, kill_group, start

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUNS = 16


def test_runs_in_flight_when_redis_restarts_all_end_and_nothing_is_duplicated(
    postgres_only, private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    namespace = f"weft-test-{uuid.uuid4().hex[:10]}"
    fake_llm.latency_s = 1.0  # each run: Text, then two LLM calls of a second each
    env = child_env(
        namespace,
        REDIS_URL=private_redis.url,
        DRAMATIQ_BROKER_URL=private_redis.url,
        GEMINI_API_KEY="fake-key",
        GEMINI_BASE_URL=fake_llm.url,
        GROQ_API_KEY="",
        LLM_MAX_ATTEMPTS="1",
        RUN_STALE_AFTER_SECONDS="3",
        RUN_HEARTBEAT_SECONDS="0.5",
        RUN_SWEEP_INTERVAL_SECONDS="0.5",
        # Queued runs wait here up to ~8 s for a free thread; a duplicate message is dropped by the claim.
        RUN_QUEUED_RESEND_AFTER_SECONDS="5",
    )
    runs = [
        run_create(owner=alice, graph=text_llm_chain(3, text=f"run {i}"), enqueue=False) for i in range(RUNS)
    ]
    broker = RedisBroker(url=private_redis.url, namespace=namespace)
    broker.declare_queue(execute_run.queue_name)
    for run in runs:
        broker.enqueue(execute_run.message(str(run.id)))
    broker.close()
    ids = [run.pk for run in runs]

    workers = start(
        ["manage.py", "rundramatiq", "--processes", "2", "--threads", "2"], env, tmp_path / "workers.log"
    )
    try:
        # Some runs are mid-LLM-call, the rest wait in Redis (or prefetched by the workers).
        wait_for(lambda: NodeResult.objects.filter(run_id__in=ids, node_id="b").count() >= 2, timeout=30)
        in_flight = Counter(WorkflowRun.objects.filter(pk__in=ids).values_list("status", flat=True))
        private_redis.kill()
        time.sleep(2)
        private_redis.start()
        restarted = time.monotonic()
        wait_for(lambda: _all_finished(ids), timeout=60, interval=0.2)
        recovery_s = time.monotonic() - restarted
    finally:
        kill_group(workers, signal.SIGTERM)

    log = (tmp_path / "workers.log").read_text(errors="replace")[-3000:]
    final = {run.pk: run for run in WorkflowRun.objects.filter(pk__in=ids)}
    statuses = Counter(run.status for run in final.values())
    print(f"in flight at the restart: {dict(in_flight)}; final: {dict(statuses)}; after {recovery_s:.1f} s")
    assert in_flight[RunStatus.QUEUED] > 0  # their messages were lost with Redis's memory
    for run in final.values():
        assert run.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}, (run.status, log)
        if run.status == RunStatus.FAILED:
            assert run.error_summary, log
    results = Counter(NodeResult.objects.filter(run_id__in=ids).values_list("run_id", "node_id"))
    assert set(results) == {(pk, node) for pk in ids for node in "abc"}
    assert set(results.values()) == {1}
    # A node is executed again only when its run was recovered; the first LLM node of a run that was
    # never taken over was called exactly once.
    prompts = Counter(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    for i, run in enumerate(runs):
        calls = prompts[f"run {i}"]
        assert 1 <= calls <= 1 + final[run.pk].recoveries, (i, calls, final[run.pk].recoveries)
    print("recoveries:", Counter(run.recoveries for run in final.values()))


def _all_finished(ids: list) -> bool:
    return not WorkflowRun.objects.filter(
        pk__in=ids, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).exists()
