"""The broker unreachable when a run is created (Redis or RabbitMQ down while the cache still answers):
the run is in the database, so the API must say so (202 with its id) rather than a 500 that invites a
retry and a second run; the sweeper sends its message once the broker is back and the run executes once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from dramatiq.brokers.redis import RedisBroker

from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.tasks import execute_run
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import text_llm_chain
from tests.reliability.helpers import new_namespace, worker_env
from tests.reliability.services import PrivateRedis
from tests.runs.processes import kill_group, start
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


@pytest.fixture
def namespace() -> str:
    return new_namespace()


@pytest.fixture
def dead_broker(private_redis: PrivateRedis, namespace: str) -> Iterator[RedisBroker]:
    """execute_run sends to the private Redis, which is down."""
    private_redis.kill()
    broker = RedisBroker(url=private_redis.url, namespace=namespace, socket_connect_timeout=0.5)
    previous = execute_run.broker
    execute_run.broker = broker
    yield broker
    execute_run.broker = previous


def test_a_run_created_while_the_broker_is_down_is_accepted_once_and_runs_when_it_is_back(
    alice,
    alice_client,
    dead_broker,
    private_redis: PrivateRedis,
    namespace,
    fake_llm: FakeLLMServer,
    tmp_path: Path,
):
    response = alice_client.post("/api/execute", text_llm_chain(3), format="json")

    assert response.status_code == 202, response.content[:300]
    run = WorkflowRun.objects.get(owner=alice)
    assert str(run.pk) == response.json()["runId"]
    assert run.status == RunStatus.QUEUED

    private_redis.start()
    env = worker_env(
        namespace, redis_url=private_redis.url, llm_url=fake_llm.url, RUN_QUEUED_RESEND_AFTER_SECONDS="1"
    )
    worker = start(
        ["manage.py", "rundramatiq", "--processes", "1", "--threads", "2"], env, tmp_path / "w.log"
    )
    try:
        wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).is_finished, timeout=30, interval=0.2)
    finally:
        kill_group(worker, signal.SIGTERM)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, (tmp_path / "w.log").read_text()[-3000:]
    assert WorkflowRun.objects.filter(owner=alice).count() == 1
    assert sorted(NodeResult.objects.filter(run=run).values_list("node_id", flat=True)) == ["a", "b", "c"]
