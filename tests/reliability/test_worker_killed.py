"""A worker killed with SIGKILL while several runs are in flight, next to a worker that survives: the
survivor takes over the dead worker's runs (running ones by their stale heartbeat, and the messages it
had prefetched by re-sending queued runs), every run succeeds once and finished nodes are not re-executed.
The single-run version, with node-level reuse checked in detail, is tests/runs/test_real_services.py."""

from __future__ import annotations

import signal
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

RUNS = 10


def test_a_worker_killed_mid_flight_hands_its_runs_to_the_survivor(
    private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    namespace = new_namespace()
    fake_llm.latency_s = 1.0
    env = worker_env(
        namespace, redis_url=private_redis.url, llm_url=fake_llm.url, RUN_QUEUED_RESEND_AFTER_SECONDS="6"
    )
    args = ["manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
    doomed = start(args, env, tmp_path / "doomed.log")
    survivor = start(args, env, tmp_path / "survivor.log")
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
