"""A run's counters are right at every moment: mid-run readers see the node results written so far."""

from __future__ import annotations

from typing import Any

import pytest

import engine
from runs.driving import run_execute
from runs.models import RunStatus
from runs.services import run_create
from tests.graphs import edge, node

# Transactional: cache generations move when writes commit, as they do in a worker.
pytestmark = pytest.mark.django_db(transaction=True)


def test_counters_mid_run_count_the_results_written_so_far(alice, alice_client, llm_settings):
    # a succeeds, b fails (400), c is skipped.
    llm_settings.fail_next("gemini", status=400)
    graph = {
        "nodes": [node("a", "text", text="hi"), node("b", "llm"), node("c", "debug")],
        "edges": [edge("a", "b", "text", "prompt"), edge("b", "c", "text", "value")],
    }
    run = run_create(owner=alice, graph=graph, enqueue=False)
    alice_client.get("/api/runs")  # a cached list page must not hide the counts
    seen: dict[str, list[dict[str, Any]]] = {"detail": [], "list": []}

    def look(event: engine.Event) -> None:
        # When b starts only a has finished; when the engine ends, the final status is not written yet.
        if (
            isinstance(event, engine.NodeStarted | engine.RunFinished)
            and getattr(event, "node_id", "b") == "b"
        ):
            seen["detail"].append(alice_client.get(f"/api/runs/{run.id}").json())
            seen["list"].append(alice_client.get("/api/runs").json()["results"][0])

    finished = run_execute(run_id=str(run.id), listener=look)

    # Results are written in batches (every 0.1 s); the counters in the same transaction, so at every moment
    # they count exactly the results a reader sees. When the engine ends, everything has been written.
    for detail, listed in zip(seen["detail"], seen["list"], strict=True):
        statuses = [result["status"] for result in detail["nodeResults"]]
        expected = (statuses.count("succeeded"), statuses.count("failed"), statuses.count("skipped"))
        for payload in (detail, listed):
            assert payload["status"] == RunStatus.RUNNING
            assert (payload["succeededNodes"], payload["failedNodes"], payload["skippedNodes"]) == expected
    last = seen["detail"][-1]
    assert (last["succeededNodes"], last["failedNodes"], last["skippedNodes"]) == (1, 1, 1)
    assert (finished.succeeded_nodes, finished.failed_nodes, finished.skipped_nodes) == (1, 1, 1)


def test_reused_nodes_are_counted_as_they_are_written(alice, alice_client, llm_settings):
    graph = {
        "nodes": [node("a", "text", text="hi"), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run_execute(run_id=str(run_create(owner=alice, graph=graph, enqueue=False).id))
    again = run_create(owner=alice, graph=graph, enqueue=False)  # nothing changed: the Text node is reused
    seen: list[dict[str, Any]] = []

    def look(event: engine.Event) -> None:
        if isinstance(event, engine.RunFinished):
            seen.append(alice_client.get(f"/api/runs/{again.id}").json())

    finished = run_execute(run_id=str(again.id), listener=look)

    assert seen[0]["status"] == RunStatus.RUNNING
    # Every result is written by the time the engine ends: the counts then are the final ones.
    assert seen[0]["reusedNodes"] >= 1
    assert (seen[0]["reusedNodes"], seen[0]["succeededNodes"]) == (
        finished.reused_nodes,
        finished.succeeded_nodes,
    )
