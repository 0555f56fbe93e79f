"""Redis restarted (losing every queued message) while runs are in flight: real worker processes and the
runs' own recovery still bring every run to a final state, each node with exactly one result."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from runs.models import NodeResult, RunStatus, WorkflowRun
from tests.fakes.llm_server import FakeLLMServer, prompt_text
from tests.reliability.helpers import (
    all_finished,
    assert_every_run_ended_once,
    new_namespace,
    queued_runs,
    worker_env,
)
from tests.reliability.services import PrivateRedis
from tests.runs.processes import kill_group, start
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]

RUNS = 16
WORKER_PROCESSES = 2


def workers_saw_the_outage(log: Path) -> bool:
    seen = log.read_text(errors="replace").count("Consumer encountered a connection error")
    return seen >= WORKER_PROCESSES


def test_runs_in_flight_when_redis_restarts_all_end_and_nothing_is_duplicated(
    private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    namespace = new_namespace()
    fake_llm.latency_s = 1.0  # each run: Text, then two LLM calls of a second each
    # Queued runs wait up to ~8 s for a free thread; a duplicate message is dropped by the claim.
    env = worker_env(
        namespace, redis_url=private_redis.url, llm_url=fake_llm.url, RUN_QUEUED_RESEND_AFTER_SECONDS="5"
    )
    runs = queued_runs(owner=alice, count=RUNS, redis_url=private_redis.url, namespace=namespace)
    ids = [run.pk for run in runs]

    workers = start(
        ["manage.py", "rundramatiq", "--processes", str(WORKER_PROCESSES), "--threads", "2"],
        env,
        tmp_path / "workers.log",
    )
    try:
        # Some runs are mid-LLM-call, the rest wait in Redis (or prefetched by the workers).
        wait_for(lambda: NodeResult.objects.filter(run_id__in=ids, node_id="b").count() >= 2, timeout=30)
        in_flight = Counter(WorkflowRun.objects.filter(pk__in=ids).values_list("status", flat=True))
        private_redis.kill()
        # Down until every worker process has felt it, so the restart finds consumers reconnecting.
        wait_for(lambda: workers_saw_the_outage(tmp_path / "workers.log"), timeout=30, interval=0.1)
        private_redis.start()
        restarted = time.monotonic()
        wait_for(lambda: all_finished(runs), timeout=60, interval=0.2)
        recovery_s = time.monotonic() - restarted
    finally:
        kill_group(workers, signal.SIGTERM)

    log = (tmp_path / "workers.log").read_text(errors="replace")[-3000:]
    assert in_flight[RunStatus.QUEUED] > 0  # their messages were lost with Redis's memory
    final = assert_every_run_ended_once(runs, log)
    statuses = Counter(run.status for run in final.values())
    recoveries = Counter(run.recoveries for run in final.values())
    print(f"at the restart {dict(in_flight)}; final {dict(statuses)} {recovery_s:.1f} s later; {recoveries=}")
    # A node is executed again only when its run was taken over; otherwise each LLM node was called once.
    prompts = Counter(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    for i, run in enumerate(runs):
        assert 1 <= prompts[f"run {i}"] <= 1 + final[run.pk].recoveries, (i, prompts[f"run {i}"])
