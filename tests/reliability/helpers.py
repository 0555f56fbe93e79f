"""What the fault tests that drive real worker processes share: their environment, queued runs, checks."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from dramatiq.brokers.redis import RedisBroker

from accounts.models import User
from runs.models import ACTIVE_RUN_STATUSES, NodeResult, RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.graphs import text_llm_chain
from tests.runs.processes import FAST_RECOVERY, child_env, fake_llm_env


def new_namespace() -> str:
    return f"weft-test-{uuid.uuid4().hex[:10]}"


def worker_env(namespace: str, *, redis_url: str, llm_url: str, **extra: str) -> dict[str, str]:
    """Worker processes on the test database, with broker and cache on `redis_url`, Gemini on the fake."""
    return child_env(
        namespace,
        REDIS_URL=redis_url,
        DRAMATIQ_BROKER_URL=redis_url,
        RUN_MAX_ACTIVE_PER_USER="100",
        **fake_llm_env(llm_url),
        **FAST_RECOVERY,
        **extra,
    )


def queued_runs(*, owner: User, count: int, redis_url: str, namespace: str) -> list[WorkflowRun]:
    """`count` runs of Text -> LLM -> LLM (prompt "run <i>"), their messages on the Redis broker."""
    graphs = [text_llm_chain(3, text=f"run {i}") for i in range(count)]
    return enqueued_runs(owner=owner, graphs=graphs, redis_url=redis_url, namespace=namespace)


def enqueued_runs(
    *, owner: User, graphs: Sequence[dict], redis_url: str, namespace: str
) -> list[WorkflowRun]:
    """A run of each graph, its message on the Redis broker."""
    runs = [run_create(owner=owner, graph=graph, enqueue=False) for graph in graphs]
    broker = RedisBroker(url=redis_url, namespace=namespace)
    try:
        broker.declare_queue(execute_run.queue_name)
        for run in runs:
            broker.enqueue(execute_run.message(str(run.id)))
    finally:
        broker.close()
    return runs


def all_finished(runs: Sequence[WorkflowRun]) -> bool:
    return not WorkflowRun.objects.filter(
        pk__in=[r.pk for r in runs], status__in=ACTIVE_RUN_STATUSES
    ).exists()


def assert_every_run_ended_once(runs: Sequence[WorkflowRun], log: str) -> dict:
    """Every run succeeded, or failed saying why; every node of every run has exactly one result."""
    final = {run.pk: run for run in WorkflowRun.objects.filter(pk__in=[r.pk for r in runs])}
    for run in final.values():
        assert run.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}, (run.status, log)
        if run.status == RunStatus.FAILED:
            assert run.error_summary, log
    results = Counter(NodeResult.objects.filter(run_id__in=final).values_list("run_id", "node_id"))
    assert set(results) == {(pk, node) for pk in final for node in "abc"}, log
    assert set(results.values()) == {1}
    return final
