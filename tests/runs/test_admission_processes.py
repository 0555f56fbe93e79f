"""Fair admission with real worker processes on PostgreSQL and Redis: another owner's run is not held behind a
burst, an owner never runs past the cap, and a worker killed mid-burst loses and doubles nothing."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

from runs.models import RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.fakes.llm_server import prompt_text
from tests.graphs import text_llm_chain
from tests.runs.processes import FAST_RECOVERY, child_env, fake_llm_env, kill_group, start
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker(monkeypatch) -> Iterator[object]:
    """`execute_run` sends to a private namespace on the test Redis, where the worker processes listen."""
    from dramatiq.brokers.redis import RedisBroker

    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a shared database: set DATABASE_URL to PostgreSQL")
    namespace = f"weft-test-{uuid.uuid4().hex[:10]}"
    broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    broker.declare_actor(execute_run)
    monkeypatch.setattr(execute_run, "broker", broker)
    broker.namespace_name = namespace
    yield broker
    broker.close()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    if keys := list(client.scan_iter(f"{namespace}*")):
        client.delete(*keys)


def test_a_burst_is_admitted_fairly_and_a_killed_worker_loses_and_doubles_nothing(
    redis_broker, alice, bob, fake_llm, settings, tmp_path: Path
):
    settings.RUN_MAX_RUNNING_PER_USER = 2
    fake_llm.latency_s = 0.5
    env = child_env(
        redis_broker.namespace_name,
        **fake_llm_env(fake_llm.url),
        **FAST_RECOVERY,
        RUN_MAX_RUNNING_PER_USER="2",
    )
    worker_args = ["manage.py", "rundramatiq", "--processes", "1", "--threads", "4"]
    burst = [run_create(owner=alice, graph=text_llm_chain(2, text=f"alice {i}")) for i in range(8)]
    alices = WorkflowRun.objects.filter(owner=alice)
    most_running = 0

    def alices_running() -> int:
        nonlocal most_running
        running = alices.filter(status=RunStatus.RUNNING).count()
        most_running = max(most_running, running)
        return running

    def two_calls_in_flight() -> bool:
        """Two of Alice's calls have reached the fake server and are not answered yet (it answers after
        0.5 s); the runs that made them are still running."""
        now = time.monotonic()
        recent = [r for r in fake_llm.requests if now - r.at < 0.4 and "alice" in str(r.body)]
        return len(recent) == 2

    first = start(worker_args, env, tmp_path / "worker-1.log")
    try:
        wait_for(lambda: alices_running() == 2, timeout=20)
        bobs = run_create(owner=bob, graph=text_llm_chain(2, text="bob"))
        wait_for(lambda: WorkflowRun.objects.get(pk=bobs.pk).status == RunStatus.SUCCEEDED, timeout=20)
        wait_for(lambda: alices_running() == 2 and two_calls_in_flight(), timeout=20, interval=0.01)
    finally:
        kill_group(first, signal.SIGKILL)  # two of Alice's runs are mid-call

    def all_succeeded() -> bool:
        alices_running()  # the cap is watched until the end
        return not alices.exclude(status=RunStatus.SUCCEEDED).exists()

    second = start(worker_args, env, tmp_path / "worker-2.log")
    try:
        wait_for(all_succeeded, timeout=60)
    finally:
        kill_group(second, signal.SIGTERM)

    runs = {run.pk: run for run in WorkflowRun.objects.filter(pk__in=[*(run.pk for run in burst), bobs.pk])}
    assert {run.status for run in runs.values()} == {RunStatus.SUCCEEDED}
    alices_starts = sorted(runs[run.pk].started_at for run in burst)
    assert runs[bobs.pk].started_at < alices_starts[2]  # Bob did not wait for Alice's burst
    assert most_running <= 2  # polled throughout: Alice never ran more than her cap
    calls = Counter(prompt_text(request.provider, request.body) for request in fake_llm.requests)
    for i, run in enumerate(burst):
        # Once each; a run whose call the kill cut off is taken over and calls again (at most once more).
        assert 1 <= calls[f"alice {i}"] <= 1 + runs[run.pk].recoveries, calls
    assert calls["bob"] == 1
    assert sum(run.recoveries for run in runs.values()) == 2  # the two Alice was running at the kill
