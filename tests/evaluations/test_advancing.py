"""Advancing an experiment survives lost messages and concurrent advances: the sweeper picks it up again, and
however many advances race, a row and repeat gets one run and at most `concurrency` run at a time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from evaluations.advancing import experiment_advance
from evaluations.datasets import rows_from_json
from evaluations.models import ExperimentItem, ExperimentStatus
from evaluations.services import dataset_create, dataset_rows_add, experiment_spec, experiment_start
from runs.models import WorkflowRun
from runs.recovery import runs_recover_stale
from tests.evaluations.helpers import make_workflow, wait_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EVALUATORS = [{"name": "right", "type": "exact", "output": "answer"}]


def experiment_of(owner, *, rows: int, concurrency: int):
    workflow = make_workflow(owner)
    dataset = dataset_create(owner=owner, name="rows")
    dataset = dataset_rows_add(
        dataset=dataset, parsed=rows_from_json([{"inputs": {"topic": f"t{i}"}} for i in range(rows)])
    )
    spec = experiment_spec(
        owner=owner,
        workflow=workflow,
        version=1,
        dataset=dataset,
        evaluators=EVALUATORS,
        concurrency=concurrency,
    )
    return experiment_start(owner=owner, spec=spec)


def test_racing_advances_start_each_item_once_and_at_most_concurrency(alice, broker):
    experiment = experiment_of(alice, rows=6, concurrency=2)
    barrier = threading.Barrier(4)

    def advance() -> None:
        try:
            barrier.wait()
            experiment_advance(experiment_id=str(experiment.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=advance) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    running = ExperimentItem.objects.filter(experiment=experiment, status="running")
    assert running.count() == 2
    assert WorkflowRun.objects.filter(trigger_ref=str(experiment.pk)).count() == 2
    assert len(set(running.values_list("run_id", flat=True))) == 2


def test_a_lost_advance_is_sent_again_by_the_sweeper(alice, broker, llm_settings, request):
    experiment = experiment_of(alice, rows=2, concurrency=2)
    broker.flush_all()  # no worker yet: the first advance is lost, as a message of a broker that restarted
    request.getfixturevalue("worker")

    runs_recover_stale()

    finished = wait_finished(str(experiment.pk))
    assert finished.status == ExperimentStatus.SUCCEEDED
    assert WorkflowRun.objects.filter(trigger_ref=str(experiment.pk)).count() == 2


def test_an_item_whose_run_was_deleted_is_scored_zero_and_counted_done(alice, broker):
    experiment = experiment_of(alice, rows=3, concurrency=2)
    experiment_advance(experiment_id=str(experiment.pk))
    first = ExperimentItem.objects.filter(experiment=experiment, status="running").order_by("row_index")[0]
    WorkflowRun.objects.filter(pk=first.run_id).delete()

    experiment_advance(experiment_id=str(experiment.pk))

    first.refresh_from_db()
    experiment.refresh_from_db()
    assert (first.status, first.run_status, first.passed) == ("scored", "cancelled", False)
    assert first.scores == [{"name": "right", "score": 0.0, "reason": "the run was deleted"}]
    assert (experiment.done_count, experiment.item_count) == (1, 3)
    # Its slot went to the next row.
    assert ExperimentItem.objects.filter(experiment=experiment, status="running").count() == 2
