"""GET /metrics adds up what separate processes counted: runs executed by two Dramatiq worker processes on
Redis, scraped from another process's point of view (this one, reading the shared directory)."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection
from prometheus_client.mmap_dict import MmapedDict

from runs.models import RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.graphs import text_llm_chain, text_to_debug_graph
from tests.runs.helpers import by_key, scrape, value
from tests.runs.processes import child_env, fake_llm_env, kill_group, start
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def namespace() -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a shared database: set DATABASE_URL to PostgreSQL")
    name = f"weft-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    if keys := list(client.scan_iter(f"{name}*")):
        client.delete(*keys)


def test_the_counts_of_two_worker_processes_add_up(
    namespace, alice, fake_llm, client, settings, tmp_path: Path
):
    from dramatiq.brokers.redis import RedisBroker

    directory = tmp_path / "metrics"
    directory.mkdir()
    fake_llm.latency_s = 0.3  # long enough that both processes take runs
    env = child_env(namespace, **fake_llm_env(fake_llm.url), PROMETHEUS_MULTIPROC_DIR=str(directory))
    broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    broker.declare_queue(execute_run.queue_name)
    runs = [
        *(run_create(owner=alice, graph=text_to_debug_graph(f"text {i}"), enqueue=False) for i in range(4)),
        *(
            run_create(owner=alice, graph=text_llm_chain(2, text=f"prompt {i}"), enqueue=False)
            for i in range(4)
        ),
    ]
    for run in runs:
        broker.enqueue(execute_run.message(str(run.id)))

    worker = start(
        ["manage.py", "rundramatiq", "--processes", "2", "--threads", "1"], env, tmp_path / "worker.log"
    )
    try:
        finished = WorkflowRun.objects.filter(pk__in=[run.pk for run in runs], status=RunStatus.SUCCEEDED)
        wait_for(lambda: finished.count() == len(runs), timeout=60, interval=0.1)
    finally:
        kill_group(worker, signal.SIGTERM)
        broker.close()

    settings.METRICS_TOKEN = "scrape"
    settings.PROMETHEUS_MULTIPROC_DIR = str(directory)
    samples = by_key(scrape(client, "scrape"))
    assert len(processes_that_finished_runs(directory)) == 2, (tmp_path / "worker.log").read_text()[-3000:]
    assert value(samples, "weft_runs_finished_total", status="succeeded") == 8
    assert value(samples, "weft_run_duration_seconds_count") == 8
    assert value(samples, "weft_queue_wait_seconds_count") == 8
    assert value(samples, "weft_node_duration_seconds_count", kind="text") == 8
    assert value(samples, "weft_node_duration_seconds_count", kind="debug") == 4
    llm = {"provider": "gemini", "model": "gemini-2.5-flash"}
    assert value(samples, "weft_llm_calls_total", outcome="succeeded", **llm) == 4
    assert value(samples, "weft_queue_depth") == 0


def processes_that_finished_runs(directory: Path) -> set[str]:
    """The ids of the processes whose own file counts a finished run (the file name ends with the id)."""
    return {
        path.stem.rsplit("_", 1)[1]
        for path in directory.glob("counter_*.db")
        for key, count, *_ in MmapedDict.read_all_values_from_file(str(path))
        if '"weft_runs_finished"' in key and count > 0
    }
