"""A worker killed with SIGKILL while several runs are in flight, next to a worker that survives: the
survivor takes over the dead worker's runs (running ones by their stale heartbeat, and the messages it
had prefetched once its broker heartbeat is as stale), every run succeeds once and finished nodes are not
re-executed. The single-run version, with node-level reuse checked in detail, is
tests/runs/test_real_services.py."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.tasks import execute_run
from tests.fakes.llm_server import FakeLLMServer, prompt_text
from tests.reliability.helpers import (
    all_finished,
    assert_every_run_ended_once,
    new_namespace,
    queued_runs,
    worker_env,
)
from tests.reliability.services import PrivateRedis
from tests.runs.processes import FAST_RECOVERY, kill_group, start
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]

RUNS = 10
PREFETCH_RUNS = 8


def test_a_worker_killed_mid_flight_hands_its_runs_to_the_survivor(
    private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    namespace = new_namespace()
    fake_llm.latency_s = 1.0
    env = worker_env(namespace, redis_url=private_redis.url, llm_url=fake_llm.url)
    doomed = start(worker_args(threads=2), env, tmp_path / "doomed.log")
    survivor = start(worker_args(threads=2), env, tmp_path / "survivor.log")
    runs = queued_runs(owner=alice, count=RUNS, redis_url=private_redis.url, namespace=namespace)
    ids = [run.pk for run in runs]
    try:
        wait_for(lambda: NodeResult.objects.filter(run_id__in=ids, node_id="b").count() >= 3, timeout=30)
        in_flight = Counter(WorkflowRun.objects.filter(pk__in=ids).values_list("status", flat=True))
        kill_group(doomed, signal.SIGKILL)
        wait_for(lambda: all_finished(runs), timeout=60, interval=0.2)
    finally:
        kill_group(doomed, signal.SIGKILL)
        kill_group(survivor, signal.SIGTERM)

    log = (tmp_path / "survivor.log").read_text(errors="replace")[-3000:]
    final = assert_every_run_ended_once(runs, log)
    assert {run.status for run in final.values()} == {RunStatus.SUCCEEDED}, log
    recovered = [run for run in final.values() if run.recoveries]
    print(f"at the kill {dict(in_flight)}; recovered runs: {len(recovered)}")
    assert recovered, "no run was running on the killed worker"
    prompts = Counter(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    for i, run in enumerate(runs):
        # b ("run i") again only if it had not finished when its worker died.
        assert 1 <= prompts[f"run {i}"] <= 1 + final[run.pk].recoveries
        assert prompts[f"echo: run {i}"] <= 1 + final[run.pk].recoveries


def test_messages_a_killed_worker_had_prefetched_are_redelivered_within_the_stale_threshold(
    private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    """The killed worker held messages of runs that were still queued (fetched, not started, not acked): they
    go back to the queue once its broker heartbeat is older than RUN_STALE_AFTER_SECONDS, at the survivor's
    next sweep, not after RUN_QUEUED_RESEND_AFTER_SECONDS (left at its default, 300 s, here)."""
    namespace = new_namespace()
    fake_llm.latency_s = 1.0
    # The first two calls (the killed worker's two running runs) hang, so that it holds its messages until
    # the kill however long the survivor takes to start.
    fake_llm.fail_next("gemini", status="hang", times=2)
    env = worker_env(namespace, redis_url=private_redis.url, llm_url=fake_llm.url)
    runs = queued_runs(owner=alice, count=PREFETCH_RUNS, redis_url=private_redis.url, namespace=namespace)
    ids = [run.pk for run in runs]
    client = redis.Redis.from_url(private_redis.url)
    queue_key = f"{namespace}:{execute_run.queue_name}"
    # 2 threads prefetch 4 messages: 2 runs start, 2 stay queued in the database, held by this worker.
    doomed = start(worker_args(threads=2), env, tmp_path / "doomed.log")
    survivor = None
    try:
        wait_for(lambda: running_count(ids) == 2 and client.llen(queue_key) == PREFETCH_RUNS - 4, timeout=30)
        # Enough threads for every run at once, so that no run waits for a thread of the survivor.
        survivor = start(worker_args(threads=PREFETCH_RUNS), env, tmp_path / "survivor.log")
        wait_for(lambda: client.llen(queue_key) == 0 and running_count(ids) == PREFETCH_RUNS - 2, timeout=30)
        held = set(
            WorkflowRun.objects.filter(pk__in=ids, status=RunStatus.QUEUED).values_list("pk", flat=True)
        )
        prefetched = {run.pk: i for i, run in enumerate(runs) if run.pk in held}
        assert len(prefetched) == 2
        kill_group(doomed, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: all_finished(runs), timeout=60, interval=0.1)
        final_after_s = time.monotonic() - killed
    finally:
        kill_group(doomed, signal.SIGKILL)
        if survivor is not None:
            kill_group(survivor, signal.SIGTERM)

    log = (tmp_path / "survivor.log").read_text(errors="replace")[-3000:]
    final = assert_every_run_ended_once(runs, log)
    assert {run.status for run in final.values()} == {RunStatus.SUCCEEDED}, log
    # Redelivered within the stale threshold and a sweep, then a run's own two calls of 1 s; the rest is slack
    # for a loaded machine (the next bound, RUN_QUEUED_RESEND_AFTER_SECONDS, is 300 s).
    recovery = FAST_RECOVERY
    stale_s = float(recovery["RUN_STALE_AFTER_SECONDS"]) + float(recovery["RUN_SWEEP_INTERVAL_SECONDS"])
    print(f"all runs final {final_after_s:.1f} s after the kill (stale + sweep: {stale_s:g} s)")
    assert final_after_s < stale_s + 2 * fake_llm.latency_s + 10, log
    prompts = Counter(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    for pk, i in prefetched.items():
        # Never started before the kill: executed once, by the survivor, without a recovery.
        assert final[pk].recoveries == 0
        assert prompts[f"run {i}"] == prompts[f"echo: run {i}"] == 1
    for i, run in enumerate(runs):
        assert 1 <= prompts[f"run {i}"] <= 1 + final[run.pk].recoveries
        assert prompts[f"echo: run {i}"] <= 1 + final[run.pk].recoveries


def worker_args(*, threads: int) -> list[str]:
    return ["manage.py", "rundramatiq", "--processes", "1", "--threads", str(threads)]


def running_count(ids: list) -> int:
    return WorkflowRun.objects.filter(pk__in=ids, status=RunStatus.RUNNING).count()
