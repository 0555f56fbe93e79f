"""Approval steps with real worker processes on Redis: a waiting run holds no worker thread, and a run that
waited while every worker was killed (SIGKILL) is finished by a new worker once decided, without executing
any finished node again (counted at the fake LLM server)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from runs.models import NodeResult, RunStatus, WorkflowRun
from tests.fakes.llm_server import FakeLLMServer, prompt_text
from tests.graphs import edge, graph, node, text_llm_chain
from tests.reliability.helpers import enqueued_runs, new_namespace, worker_env
from tests.reliability.services import PrivateRedis
from tests.runs.processes import kill_group, manage, start
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]

WAITING_RUNS = 8


def review_graph(topic: str) -> dict[str, list]:
    """Text -> LLM `draft` -> Approval `review` -> LLM `publish` (approved) / Debug `redo` (rejected); beside
    it, a branch of its own: Text -> LLM `side`."""
    return graph(
        [
            node("in", "text", text=f"draft about {topic}"),
            node("draft", "llm"),
            node("review", "approval", instructions="Publish {{subject}}?"),
            node("publish", "llm"),
            node("redo", "debug"),
            node("note", "text", text=f"side note on {topic}"),
            node("side", "llm"),
        ],
        [
            edge("in", "draft", "text", "prompt"),
            edge("draft", "review", "text", "subject"),
            edge("review", "publish", "approved", "prompt"),
            edge("review", "redo", "rejected", "value"),
            edge("note", "side", "text", "prompt"),
        ],
    )


def worker_args(*, threads: int) -> list[str]:
    return ["manage.py", "rundramatiq", "--processes", "1", "--threads", str(threads)]


def statuses(runs: list[WorkflowRun]) -> Counter:
    return Counter(WorkflowRun.objects.filter(pk__in=[r.pk for r in runs]).values_list("status", flat=True))


def test_eight_waiting_runs_leave_a_one_thread_worker_free_for_an_ordinary_run(
    private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    namespace = new_namespace()
    env = worker_env(namespace, redis_url=private_redis.url, llm_url=fake_llm.url)
    worker = start(worker_args(threads=1), env, tmp_path / "worker.log")
    try:
        graphs = [review_graph(f"topic {i}") for i in range(WAITING_RUNS)]
        waiting = enqueued_runs(owner=alice, graphs=graphs, redis_url=private_redis.url, namespace=namespace)
        wait_for(lambda: statuses(waiting)[RunStatus.WAITING] == WAITING_RUNS, timeout=60, interval=0.2)
        [ordinary] = enqueued_runs(
            owner=alice, graphs=[text_llm_chain(3)], redis_url=private_redis.url, namespace=namespace
        )
        wait_for(lambda: WorkflowRun.objects.get(pk=ordinary.pk).is_finished, timeout=30, interval=0.2)
    finally:
        kill_group(worker, signal.SIGTERM)

    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert WorkflowRun.objects.get(pk=ordinary.pk).status == RunStatus.SUCCEEDED, log
    # Still waiting, never taken for stale (heartbeats are 3 s old at most for a running run here).
    assert statuses(waiting) == Counter({RunStatus.WAITING: WAITING_RUNS}), log
    assert not WorkflowRun.objects.filter(pk__in=[r.pk for r in waiting], recoveries__gt=0).exists()


def test_a_run_decided_after_every_worker_was_killed_is_finished_by_a_new_worker_without_redoing_nodes(
    private_redis: PrivateRedis, alice, fake_llm: FakeLLMServer, tmp_path: Path
):
    namespace = new_namespace()
    env = worker_env(namespace, redis_url=private_redis.url, llm_url=fake_llm.url)
    first = start(worker_args(threads=2), env, tmp_path / "first.log")
    replacement = None
    try:
        [run] = enqueued_runs(
            owner=alice, graphs=[review_graph("owls")], redis_url=private_redis.url, namespace=namespace
        )
        wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).status == RunStatus.WAITING, timeout=30)
        kill_group(first, signal.SIGKILL)

        # The decision is taken as the API takes it, in a process of its own on the same broker.
        decide = (
            "from accounts.models import User; from runs.decisions import approval_decide; "
            f"approval_decide(owner=User.objects.get(pk={alice.pk}), run_id={str(run.id)!r}, "
            "node_id='review', decision='approve', comment='go')"
        )
        manage(env, "shell", "-c", decide)
        assert WorkflowRun.objects.get(pk=run.pk).status == RunStatus.QUEUED
        replacement = start(worker_args(threads=1), env, tmp_path / "replacement.log")
        wait_for(lambda: WorkflowRun.objects.get(pk=run.pk).is_finished, timeout=30, interval=0.2)
    finally:
        kill_group(first, signal.SIGKILL)
        if replacement is not None:
            kill_group(replacement, signal.SIGTERM)

    log = (tmp_path / "replacement.log").read_text(errors="replace")[-3000:]
    final = WorkflowRun.objects.get(pk=run.pk)
    assert final.status == RunStatus.SUCCEEDED, log
    assert final.recoveries == 0  # it was never running when its worker died: nothing to recover
    prompts = Counter(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    assert prompts == Counter({"draft about owls": 1, "side note on owls": 1, "echo: draft about owls": 1}), (
        prompts
    )
    results = Counter(NodeResult.objects.filter(run=run).values_list("node_id", flat=True))
    assert set(results.values()) == {1}
    assert len(results) == 7
    assert NodeResult.objects.get(run=run, node_id="redo").error_kind == "branch_not_taken"
