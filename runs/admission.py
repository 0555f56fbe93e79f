"""Fair admission: no owner's burst holds another owner's run back.

Each owner has at most RUN_MAX_RUNNING_PER_USER top-level runs *admitted* (queued with their message sent,
or running); a run created past that is held: it is `queued` in the database with `admitted_at` null and no
message. As the owner's admitted runs end (finish, wait for an approval, are cancelled or abandoned), their
held runs are admitted oldest first (`runs_release`), and every sweep admits what a lost release left held.
So the broker's queue never holds more than the cap of one owner's messages, and another owner's new run
waits behind at most those, not behind the whole burst. See docs/reliability.md, "Fair admission".
The actor whose messages these are (runs.tasks.execute_run) comes from the caller: runs.tasks imports this.
"""

from __future__ import annotations

import dramatiq
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from dramatiq import Message

from accounts.models import User
from runs.models import ACTIVE_RUN_STATUSES, RunStatus, WorkflowRun
from runs.tracing import run_message


def held_runs() -> QuerySet[WorkflowRun]:
    return WorkflowRun.objects.filter(status=RunStatus.QUEUED, admitted_at__isnull=True)


# A run holding a place: running, or queued with its message sent. A waiting run holds none until a decision
# queues it again.
_HOLDS_A_PLACE = Q(status=RunStatus.RUNNING) | Q(status=RunStatus.QUEUED, admitted_at__isnull=False)


def admitted_count(*, owner_id: int) -> int:
    """The owner's top-level runs holding a place. Child runs run inside their parent's place."""
    return WorkflowRun.objects.filter(_HOLDS_A_PLACE, owner_id=owner_id, parent_run__isnull=True).count()


def owner_places_taken(*, owner_id: int) -> tuple[int, int]:
    """In one query, the owner's active top-level runs (what RUN_MAX_ACTIVE_PER_USER caps) and, of those, the
    ones holding a place (admitted_count, what RUN_MAX_RUNNING_PER_USER caps)."""
    counts = WorkflowRun.objects.filter(
        owner_id=owner_id, parent_run__isnull=True, status__in=ACTIVE_RUN_STATUSES
    ).aggregate(active=Count("pk"), admitted=Count("pk", filter=_HOLDS_A_PLACE))
    return counts["active"], counts["admitted"]


def run_admit(run: WorkflowRun, *, admitted: int, actor: dramatiq.Actor) -> Message | None:
    """For a run being created, with its owner's row locked (run_create) and `admitted` its owner's
    admitted_count read under that lock: admit it if the owner has a free place, and return its message
    to send once the creation commits (its id is the run's trigger_id, in the same write); None leaves it
    held."""
    if admitted >= settings.RUN_MAX_RUNNING_PER_USER:
        return None
    message = run_message(actor, run.id, trace_id=run.trace_id, parent_span_id=run.trace_parent_id)
    run.admitted_at, run.trigger_id = timezone.now(), message.message_id
    return message


def runs_release(*, owner_id: int, actor: dramatiq.Actor) -> int:
    """Admit the owner's oldest held runs into the places free now; how many were admitted.

    Safe from many processes at once: the owner's row lock serialises releases (and creations), and each
    admission is a conditional UPDATE of a still-held run."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=owner_id).exists()
        free = settings.RUN_MAX_RUNNING_PER_USER - admitted_count(owner_id=owner_id)
        if free <= 0:
            return 0
        oldest = held_runs().filter(owner_id=owner_id).order_by("created_at")
        admitted = 0
        now = timezone.now()
        for run_id, trace_id, parent_span_id in oldest.values_list("id", "trace_id", "trace_parent_id")[
            :free
        ]:
            message = run_message(actor, run_id, trace_id=trace_id, parent_span_id=parent_span_id)
            if (
                held_runs()
                .filter(pk=run_id)
                .update(admitted_at=now, heartbeat_at=now, trigger_id=message.message_id)
            ):
                _send_on_commit(actor, message)
                admitted += 1
        return admitted


def held_runs_release(*, limit: int, actor: dramatiq.Actor) -> int:
    """Admit held runs of owners with free places: what a release lost with its worker, or with the broker."""
    owners = held_runs().order_by().values_list("owner_id", flat=True).distinct()[:limit]
    return sum(runs_release(owner_id=owner_id, actor=actor) for owner_id in list(owners))


def _send_on_commit(actor: dramatiq.Actor, message: Message) -> None:
    # Robust: the admission is committed whatever the broker says. An unreachable broker is logged, and the
    # sweeper re-sends the message of a run queued too long (runs.recovery).
    transaction.on_commit(lambda: actor.broker.enqueue(message), robust=True)
