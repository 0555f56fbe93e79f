"""Runs against real services: a worker process killed with SIGKILL on Redis, the execute rate limit
shared by two server processes, and a run end to end on RabbitMQ."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
import redis
from django.db import connection
from django_dramatiq.middleware import DbConnectionsMiddleware

from accounts.services import api_token_create
from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.fakes.llm_server import prompt_text
from tests.graphs import text_llm_chain, text_to_debug_graph
from tests.runs.processes import (
    FAST_RECOVERY,
    child_env,
    fake_llm_env,
    free_port,
    kill_group,
    start,
    wait_http,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("child processes need a shared database: set DATABASE_URL to PostgreSQL")


@pytest.fixture
def namespace() -> Iterator[str]:
    """A private Dramatiq namespace on the test Redis, deleted afterwards."""
    name = f"weft-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)


def test_a_worker_killed_with_sigkill_mid_run_loses_nothing(
    postgres_only, namespace, alice, fake_llm, tmp_path: Path
):
    from dramatiq.brokers.redis import RedisBroker

    fake_llm.latency_s = 1.5
    env = child_env(
        namespace,
        **fake_llm_env(fake_llm.url),
        **FAST_RECOVERY,
    )
    worker_args = ["manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
    broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    run = run_create(owner=alice, graph=text_llm_chain(4), enqueue=False)  # a -> b -> c -> d
    broker.declare_queue(execute_run.queue_name)
    broker.enqueue(execute_run.message(str(run.id)))

    first = start(worker_args, env, tmp_path / "worker-1.log")
    try:
        wait_for(lambda: NodeResult.objects.filter(run=run, node_id="b").exists(), timeout=20)
    finally:
        kill_group(first, signal.SIGKILL)  # c is in flight at the fake server now
    assert WorkflowRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

    second = start(worker_args, env, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).is_finished, timeout=25, interval=0.1)
    finally:
        kill_group(second, signal.SIGTERM)
        broker.close()

    run.refresh_from_db()
    assert (run.status, run.recoveries) == (RunStatus.SUCCEEDED, 1), (tmp_path / "worker-2.log").read_text()
    results = list(NodeResult.objects.filter(run=run).values_list("node_id", "status"))
    assert sorted(results) == [("a", "succeeded"), ("b", "succeeded"), ("c", "succeeded"), ("d", "succeeded")]
    prompts = [prompt_text(r.provider, r.body) for r in fake_llm.requests]
    assert prompts.count("hello") == 1  # b succeeded before the kill and was not executed again
    assert prompts.count("echo: echo: hello") == 1  # d ran once, on the second worker
    assert run.succeeded_nodes == 4


def test_the_execute_rate_limit_is_shared_by_two_server_processes(postgres_only, namespace, alice, tmp_path):
    token = api_token_create(owner=alice, name="rate limit").secret
    env = child_env(namespace, EXECUTE_RATE_LIMIT="5/h", RUN_MAX_ACTIVE_PER_USER="100")
    ports = [free_port(), free_port()]
    servers = [
        start(
            ["manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            env,
            tmp_path / f"server-{port}.log",
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/api/health")
        answers = []
        for i in range(7):
            request = urllib.request.Request(
                f"http://127.0.0.1:{ports[i % 2]}/api/execute",
                data=json.dumps(text_to_debug_graph()).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers.append((response.status, None, json.loads(response.read())))
            except urllib.error.HTTPError as error:
                answers.append((error.code, error.headers.get("Retry-After"), json.loads(error.read())))
    finally:
        for server in servers:
            kill_group(server, signal.SIGTERM)

    assert [status for status, _, _ in answers] == [202] * 5 + [429] * 2
    _, retry_after, body = answers[5]
    assert 1 <= int(retry_after) <= 3600
    assert "rate limit" in body["detail"].lower()
    assert WorkflowRun.objects.filter(owner=alice).count() == 5


def test_a_run_executes_end_to_end_on_rabbitmq(alice, fake_llm, settings):
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    settings.GEMINI_API_KEY = "fake-key"
    settings.GEMINI_BASE_URL = fake_llm.url
    settings.LLM_MAX_ATTEMPTS = 1
    queue = f"weft-test-{uuid.uuid4().hex[:10]}"
    rabbit = RabbitmqBroker(url="amqp://guest:guest@127.0.0.1:5672/")
    rabbit.add_middleware(DbConnectionsMiddleware())
    previous_broker, previous_queue = execute_run.broker, execute_run.queue_name
    execute_run.broker, execute_run.queue_name = rabbit, queue
    rabbit.declare_actor(execute_run)
    worker = dramatiq.Worker(rabbit, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        run = run_create(owner=alice, graph=text_llm_chain(3))  # enqueued on commit (autocommit here)
        wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).is_finished, timeout=20)
    finally:
        worker.stop()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            rabbit.channel.queue_delete(name)
        rabbit.close()
        execute_run.broker, execute_run.queue_name = previous_broker, previous_queue

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.succeeded_nodes == 3
    assert len(fake_llm.requests) == 2


def test_a_result_recorded_by_one_worker_process_is_reused_by_another(
    postgres_only, namespace, alice, bob, fake_llm, tmp_path: Path
):
    """Reuse lives in the database, not in a process: a second worker process, started after the first
    has exited, finds the first one's results by content key; another user's run finds none of them."""
    from dramatiq.brokers.redis import RedisBroker

    env = child_env(namespace, **fake_llm_env(fake_llm.url))
    worker_args = ["manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
    broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=namespace)
    broker.declare_queue(execute_run.queue_name)
    graph = text_llm_chain(3)
    for node in graph["nodes"]:
        node["data"]["temperature"] = 0

    def run_on_a_new_worker(owner, log: str) -> WorkflowRun:
        run = run_create(owner=owner, graph=graph, enqueue=False)
        broker.enqueue(execute_run.message(str(run.id)))
        worker = start(worker_args, env, tmp_path / log)
        try:
            wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).is_finished, timeout=30, interval=0.1)
        finally:
            kill_group(worker, signal.SIGTERM)
        run.refresh_from_db()
        return run

    try:
        first = run_on_a_new_worker(alice, "worker-1.log")
        calls_after_first = len(fake_llm.requests)
        second = run_on_a_new_worker(alice, "worker-2.log")
        calls_after_second = len(fake_llm.requests)
        bobs = run_on_a_new_worker(bob, "worker-3.log")
    finally:
        broker.close()

    assert (first.status, second.status, bobs.status) == (RunStatus.SUCCEEDED,) * 3
    assert calls_after_first == 2
    assert calls_after_second == 2  # the second worker made no call
    assert len(fake_llm.requests) == 4  # bob's run made its own two
    reused = NodeResult.objects.filter(run=second).select_related("reused_from")
    assert {(r.node_id, r.status, r.reused_from.run_id) for r in reused} == {
        ("a", "reused", first.id),
        ("b", "reused", first.id),
        ("c", "reused", first.id),
    }
    assert set(NodeResult.objects.filter(run=bobs).values_list("status", flat=True)) == {"succeeded"}
