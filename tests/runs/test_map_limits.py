"""A Map's limits through the runs app: the child-run allowance is checked before any query, a list past it
ends the Map at once, and a Map stops its children and threads when its run is cancelled or times out.

New database connections are counted with Django's `connection_created` signal (every thread's first
query, on SQLite as on PostgreSQL): each refused item used to cost one. Child runs execute on the Map's
threads with connections of their own, so these tests commit (transactional_db).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from runs.driving import run_execute
from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.services import run_cancel, run_create
from tests.graphs import callable_graph, edge, graph, llm_callee, node
from tests.waiting import wait_for
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = 2_000


def _published(owner, name: str, g: dict) -> Workflow:
    return workflow_publish(workflow=workflow_create(owner=owner, name=name, **g))


def _mapping(callee: Workflow, items: list[str], **data) -> dict:
    """Text (one item per line) -> Map(callee) -> Debug of `results`."""
    return graph(
        [
            node("items", "text", text="\n".join(items)),
            node("map", "map", workflowId=str(callee.pk), **data),
            node("results", "debug"),
        ],
        [edge("items", "map", "text", "items"), edge("map", "results", "results", "value")],
    )


def _map_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("weft-map-")]


@pytest.fixture
def connections_opened() -> Iterator[list[str]]:
    """The names of the threads that opened a database connection while the test ran."""
    opened: list[str] = []

    def count(sender, connection, **kwargs) -> None:
        opened.append(threading.current_thread().name)

    connection_created.connect(count)
    yield opened
    connection_created.disconnect(count)


def test_a_map_past_the_child_run_allowance_fails_at_once_without_a_query_per_item(
    alice, settings, connections_opened
) -> None:
    settings.RUN_MAX_CHILD_RUNS = 20
    callee = _published(alice, "Writer", callable_graph())
    run = run_create(
        owner=alice,
        graph=_mapping(callee, [f"item {i}" for i in range(ITEMS)], concurrency=16),
        enqueue=False,
    )
    connections_opened.clear()

    run = run_execute(run_id=str(run.id))

    assert run.status == RunStatus.FAILED
    result = NodeResult.objects.get(run=run, node_id="map")
    assert (result.error_kind, result.error_message) == (
        "child_run_limit",
        "the list has 2,000 items but only 20 more child runs may start: "
        "this run may start at most 20 child runs (RUN_MAX_CHILD_RUNS)",
    )
    assert not WorkflowRun.objects.filter(parent_run=run).exists()
    assert not [name for name in connections_opened if name.startswith("weft-map-")]
    assert _map_threads() == []


def test_with_continue_on_error_the_rest_are_refused_at_once_and_connections_stay_bounded(
    alice, settings, connections_opened
) -> None:
    settings.RUN_MAX_CHILD_RUNS = 20
    callee = _published(alice, "Writer", callable_graph())
    g = _mapping(callee, [f"item {i}" for i in range(ITEMS)], concurrency=16, continueOnError=True)
    run = run_create(owner=alice, graph=g, enqueue=False)
    connections_opened.clear()

    run = run_execute(run_id=str(run.id))

    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert WorkflowRun.objects.filter(parent_run=run).count() == 20
    results = NodeResult.objects.get(run=run, node_id="map").output
    assert [r is None for r in results["results"]].count(False) == 20
    assert len(results["errors"]) == ITEMS - 20
    assert {(e["kind"], e["message"]) for e in results["errors"]} == {
        ("child_run_limit", "this run may start at most 20 child runs (RUN_MAX_CHILD_RUNS)")
    }
    # One connection per child run on the Map's threads (each closes its own), never one per item.
    map_connections = [name for name in connections_opened if name.startswith("weft-map-")]
    assert len(map_connections) <= 20
    assert len(connections_opened) <= 40
    assert _map_threads() == []


def test_a_map_stops_starting_children_once_its_results_are_over_the_output_budget(alice, settings) -> None:
    settings.RUN_MAX_NODE_OUTPUT_BYTES = 5_000
    # Each child answers 1,000 bytes, so five answers are over the Map's 5,000. The items differ, so that no
    # child reuses another's answer.
    callee = _published(alice, "Amplifier", callable_graph("{{topic}}" * 200))
    items = [f"{i:04d}x" for i in range(100)]

    run = run_create(owner=alice, graph=_mapping(callee, items, concurrency=2), enqueue=False)
    run = run_execute(run_id=str(run.id))

    result = NodeResult.objects.get(run=run, node_id="map")
    assert result.error_kind == "output_limit"
    # The other worker may have started one more child while the fifth answer came back.
    assert 5 <= WorkflowRun.objects.filter(parent_run=run).count() <= 6


def _start(owner, g: dict) -> tuple[WorkflowRun, threading.Thread]:
    """Execute a new run on a thread of its own, as a worker would."""
    run = run_create(owner=owner, graph=g, enqueue=False)

    def execute() -> None:
        try:
            run_execute(run_id=str(run.id))
        finally:
            connection.close()  # this thread's own, or the test database could not be dropped

    worker = threading.Thread(target=execute)
    worker.start()
    return run, worker


def test_cancelling_the_parent_stops_its_maps_children_and_threads(alice, llm_settings) -> None:
    llm_settings.latency_s = 60  # each child's model call only ends by being cut off
    callee = _published(alice, "Echo", llm_callee())
    run, worker = _start(alice, _mapping(callee, [f"item {i}" for i in range(100)], concurrency=4))
    try:
        wait_for(lambda: len(llm_settings.requests) == 4, timeout=15)
        run_cancel(run=WorkflowRun.objects.get(pk=run.pk))
        wait_for(lambda: not _map_threads(), timeout=10)
        worker.join(timeout=10)
    finally:
        llm_settings.reset()
        worker.join()

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    children = WorkflowRun.objects.filter(parent_run=run)
    assert {child.status for child in children} == {RunStatus.CANCELLED}
    assert children.count() == 4


def test_a_parent_past_its_wall_clock_limit_stops_its_maps_children_and_threads(
    alice, llm_settings, settings
) -> None:
    settings.RUN_TIMEOUT_SECONDS = 1.0
    llm_settings.latency_s = 60
    callee = _published(alice, "Echo", llm_callee())
    run, worker = _start(alice, _mapping(callee, [f"item {i}" for i in range(100)], concurrency=4))
    try:
        worker.join(timeout=15)
        wait_for(lambda: not _map_threads(), timeout=10)
    finally:
        llm_settings.reset()
        worker.join()

    run.refresh_from_db()
    assert (run.status, run.error_summary) == (RunStatus.FAILED, "run exceeded wall-clock limit of 1 s")
    children = WorkflowRun.objects.filter(parent_run=run)
    assert children.count() == 4
    wait_for(lambda: all(child.is_finished for child in children.all()), timeout=10)
