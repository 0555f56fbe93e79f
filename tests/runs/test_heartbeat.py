"""The heartbeat keeps a live run alive while it is busy, so the sweeper never starts it a second time
(issue 18: a run busy with a huge output went stale and was recovered while still running)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection

import engine
from engine.kinds import NodeCall, NodeKind, NodeOutput, register, unregister
from runs.driving import run_execute
from runs.models import RunStatus, WorkflowRun
from runs.recovery import RecoveryReport, runs_recover_stale
from runs.services import run_create
from tests.graphs import edge, node, text_to_debug_graph

pytestmark = pytest.mark.django_db(transaction=True)

STALE_AFTER_SECONDS = 1.5
BUSY_SECONDS = 3 * STALE_AFTER_SECONDS


@pytest.fixture(autouse=True)
def fast_heartbeat(settings) -> None:
    settings.RUN_HEARTBEAT_SECONDS = 0.1
    settings.RUN_STALE_AFTER_SECONDS = STALE_AFTER_SECONDS
    settings.RUN_SWEEP_INTERVAL_SECONDS = 0.1


class SlowKind(NodeKind):
    type = "slow-test"
    label = "Slow"
    description = "Works for BUSY_SECONDS, then passes its input on."
    inputs = (engine.Port("value", "any"),)
    outputs = (engine.Port("value", "any"),)

    def run(self, call: NodeCall) -> NodeOutput:
        time.sleep(BUSY_SECONDS)
        return NodeOutput({"value": call.inputs.get("value")})


@pytest.fixture
def slow_kind() -> Iterator[None]:
    register(SlowKind)
    yield
    unregister(SlowKind.type)


def sweep_until(done: threading.Event) -> list[RecoveryReport]:
    """What a sweeper in another worker process would do meanwhile: sweep, again and again."""
    reports = []
    while not done.is_set():
        reports.append(runs_recover_stale())
        time.sleep(0.1)
    return reports


def test_a_run_whose_coordinating_thread_is_busy_past_the_staleness_window_is_not_recovered(alice):
    run = run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)
    done = threading.Event()
    reports: list[RecoveryReport] = []

    def busy(event: engine.Event) -> None:
        # The engine's own thread is held up (as storing a huge output held it) for three staleness windows.
        if isinstance(event, engine.NodeStarted) and event.node_id == "debug-1":
            threading.Timer(BUSY_SECONDS, done.set).start()
            reports.extend(sweep_until(done))

    finished = run_execute(run_id=str(run.id), listener=busy)

    assert len(reports) > 10
    assert all(report == RecoveryReport() for report in reports)
    assert finished is not None
    assert finished.status == RunStatus.SUCCEEDED
    assert WorkflowRun.objects.get(pk=run.pk).recoveries == 0


def test_a_node_busy_past_the_staleness_window_is_not_recovered(alice, slow_kind):
    graph = {
        "nodes": [node("text", "text", text="hi"), node("slow", SlowKind.type)],
        "edges": [edge("text", "slow", "text", "value")],
    }
    run = run_create(owner=alice, graph=graph, enqueue=False)
    done = threading.Event()
    outcome: list[WorkflowRun | None] = []

    def execute() -> None:
        try:
            outcome.append(run_execute(run_id=str(run.id)))
        finally:
            connection.close()  # this thread's own
            done.set()

    worker = threading.Thread(target=execute)
    worker.start()
    reports = sweep_until(done)
    worker.join()

    assert len(reports) > 10
    assert all(report == RecoveryReport() for report in reports)
    assert outcome[0] is not None
    assert outcome[0].status == RunStatus.SUCCEEDED
    assert WorkflowRun.objects.get(pk=run.pk).recoveries == 0
