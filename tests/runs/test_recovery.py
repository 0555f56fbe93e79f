"""The stale-run sweeper: re-enqueue runs whose worker died, give up after RUN_MAX_RECOVERIES."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.recovery import runs_recover_stale
from runs.tasks import execute_run
from tests.factories import NodeResultFactory, WorkflowRunFactory

pytestmark = pytest.mark.django_db


def stale_run(owner, **fields) -> WorkflowRun:
    ago = timezone.now() - timedelta(seconds=120)
    return WorkflowRunFactory(
        owner=owner, status=RunStatus.RUNNING, started_at=ago, heartbeat_at=ago, **fields
    )


def queued_messages(broker) -> int:
    return broker.queues[execute_run.queue_name].qsize()


def test_a_run_with_a_stale_heartbeat_is_requeued_once(alice, broker, django_capture_on_commit_callbacks):
    run = stale_run(alice)
    fresh = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING, heartbeat_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        report = runs_recover_stale()
    with django_capture_on_commit_callbacks(execute=True):
        again = runs_recover_stale()

    assert (report.requeued, again.requeued) == (1, 0)
    run.refresh_from_db()
    assert (run.status, run.recoveries) == (RunStatus.QUEUED, 1)
    assert queued_messages(broker) == 1
    fresh.refresh_from_db()
    assert fresh.status == RunStatus.RUNNING


def test_a_stale_child_run_is_failed_not_requeued_while_its_parent_is_requeued(
    alice, broker, django_capture_on_commit_callbacks
):
    parent = stale_run(alice)
    child = stale_run(alice, parent_run=parent, parent_node_id="sub", trigger="subworkflow")

    with django_capture_on_commit_callbacks(execute=True):
        report = runs_recover_stale()

    assert (report.requeued, report.failed) == (1, 1)
    child.refresh_from_db()
    assert child.status == RunStatus.FAILED
    assert child.error_summary.startswith("The worker running this child run (and its parent) stopped")
    assert queued_messages(broker) == 1  # the parent's: its Sub-workflow node starts a new child


def test_a_run_whose_workers_keep_dying_is_failed_with_a_clear_reason(alice, settings):
    settings.RUN_MAX_RECOVERIES = 2
    run = stale_run(alice, recoveries=2)
    NodeResultFactory(run=run, node_id="text-1")

    report = runs_recover_stale()

    assert report.failed == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "stopped responding 3 times" in run.error_summary
    assert run.completed_at is not None
    assert dict(NodeResult.objects.filter(run=run).values_list("node_id", "status")) == {
        "text-1": "succeeded",
        "debug-1": "cancelled",
    }
    assert run.succeeded_nodes == 1


def test_a_cancelled_run_whose_worker_died_ends_cancelled(alice, broker):
    run = stale_run(alice, cancel_requested_at=timezone.now())

    report = runs_recover_stale()

    assert report.cancelled == 1
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert queued_messages(broker) == 0


def test_a_queued_run_never_picked_up_has_its_message_sent_again(alice, broker, settings):
    settings.RUN_QUEUED_RESEND_AFTER_SECONDS = 60
    lost = WorkflowRunFactory(
        owner=alice, heartbeat_at=timezone.now() - timedelta(seconds=90), trigger_id="old"
    )
    WorkflowRunFactory(owner=alice, heartbeat_at=timezone.now())

    report = runs_recover_stale()

    assert report.resent == 1
    lost.refresh_from_db()
    assert lost.trigger_id != "old"
    assert queued_messages(broker) == 1


def test_the_recover_runs_command_sweeps_once(alice, capsys, django_capture_on_commit_callbacks):
    stale_run(alice)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_runs")

    assert "requeued 1" in capsys.readouterr().out
