"""Fair admission (runs/admission.py): past RUN_MAX_RUNNING_PER_USER an owner's runs are held in the database
and admitted oldest first as that owner's runs end, so another owner's run never queues behind the burst."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from dramatiq import Message

from runs.admission import held_runs
from runs.driving import run_execute
from runs.models import RunStatus, WorkflowRun
from runs.recovery import runs_recover_stale
from runs.services import TooManyActiveRuns, run_cancel, run_create
from runs.tasks import execute_run
from tests.graphs import text_llm_chain, text_to_debug_graph
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def cap_of_two(settings) -> int:
    settings.RUN_MAX_RUNNING_PER_USER = 2
    return 2


def sent(broker) -> list[str]:
    """The run ids of the messages waiting in the broker, in queue order."""
    queued = broker.queues[execute_run.queue_name].queue
    return [Message.decode(encoded).args[0] for encoded in queued]


def create(owner, django_capture_on_commit_callbacks, count: int = 1) -> list[WorkflowRun]:
    with django_capture_on_commit_callbacks(execute=True):
        return [run_create(owner=owner, graph=text_to_debug_graph(f"run {i}")) for i in range(count)]


def test_past_the_cap_a_burst_is_held_and_another_owners_run_is_sent_at_once(
    alice, bob, broker, cap_of_two, django_capture_on_commit_callbacks
):
    burst = create(alice, django_capture_on_commit_callbacks, count=5)
    bobs = create(bob, django_capture_on_commit_callbacks)

    assert sent(broker) == [str(run.id) for run in (*burst[:2], bobs[0])]
    assert set(held_runs()) == set(burst[2:])
    assert all(run.status == RunStatus.QUEUED for run in burst)


def test_a_held_run_is_not_claimed_even_by_a_stray_message(
    alice, broker, cap_of_two, django_capture_on_commit_callbacks
):
    held = create(alice, django_capture_on_commit_callbacks, count=3)[2]

    assert run_execute(run_id=str(held.id)) is None

    held.refresh_from_db()
    assert (held.status, held.admitted_at) == (RunStatus.QUEUED, None)


def test_an_ended_run_admits_the_owners_oldest_held_run(
    alice, broker, cap_of_two, django_capture_on_commit_callbacks
):
    first, _, third, fourth = create(alice, django_capture_on_commit_callbacks, count=4)

    with django_capture_on_commit_callbacks(execute=True):
        execute_run.fn(str(first.id))  # the actor: it runs the run, then releases its place

    first.refresh_from_db()
    assert first.status == RunStatus.SUCCEEDED
    assert sent(broker)[-1] == str(third.id)
    assert list(held_runs()) == [fourth]


def test_cancelling_an_admitted_queued_run_admits_the_next(
    alice, broker, cap_of_two, django_capture_on_commit_callbacks
):
    first, _, third = create(alice, django_capture_on_commit_callbacks, count=3)

    with django_capture_on_commit_callbacks(execute=True):
        run_cancel(run=first)

    assert sent(broker)[-1] == str(third.id)
    assert not held_runs().exists()


def test_a_sweep_admits_what_a_lost_release_left_held_and_never_resends_a_held_run(
    alice, broker, cap_of_two, settings, django_capture_on_commit_callbacks
):
    first, second, third, fourth = create(alice, django_capture_on_commit_callbacks, count=4)
    # Both admitted runs ended with their worker before it released their places.
    WorkflowRun.objects.filter(pk__in=[first.pk, second.pk]).update(status=RunStatus.SUCCEEDED)
    long_ago = timezone.now() - timedelta(seconds=settings.RUN_QUEUED_RESEND_AFTER_SECONDS + 1)
    WorkflowRun.objects.filter(pk__in=[third.pk, fourth.pk]).update(heartbeat_at=long_ago)
    before = len(sent(broker))

    with django_capture_on_commit_callbacks(execute=True):
        report = runs_recover_stale()

    assert report.resent == 0  # held runs have no message to lose
    assert sent(broker)[before:] == [str(third.id), str(fourth.id)]
    assert not held_runs().exists()


def test_held_runs_count_against_the_active_run_cap(
    alice, broker, cap_of_two, settings, django_capture_on_commit_callbacks
):
    settings.RUN_MAX_ACTIVE_PER_USER = 4
    create(alice, django_capture_on_commit_callbacks, count=4)

    with pytest.raises(TooManyActiveRuns):
        run_create(owner=alice, graph=text_to_debug_graph())


@pytest.mark.django_db(transaction=True)
def test_on_a_real_worker_bobs_run_starts_before_alices_held_burst(
    alice, bob, worker, llm_settings, settings
):
    """Two worker threads, Alice's burst of 6 runs of a 0.3 s model call, then Bob's: Bob's starts as soon as
    one of Alice's first two ends, before her third."""
    settings.RUN_MAX_RUNNING_PER_USER = 2
    llm_settings.latency_s = 0.3
    burst = [run_create(owner=alice, graph=text_llm_chain(2, text=f"a {i}")) for i in range(6)]
    bobs = run_create(owner=bob, graph=text_llm_chain(2, text="bob"))

    everything = WorkflowRun.objects.filter(pk__in=[run.pk for run in (*burst, bobs)])
    wait_for(lambda: not everything.exclude(status=RunStatus.SUCCEEDED).exists(), timeout=30)

    started = {run.pk: run.started_at for run in everything}
    alices_order = sorted(started[run.pk] for run in burst)
    assert started[bobs.pk] < alices_order[2]
    assert all(run.recoveries == 0 for run in everything)
