"""Deciding an approval step: a person's decision (`approval_decide`) or the sweeper's timeout
(`approvals_time_out`) is recorded, logged and published, and the waiting run is queued again to go on from
where it stopped."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from core.errors import DomainError, NotFound
from runs.changes import run_changed
from runs.events import RunEventPublisher
from runs.models import Approval, ApprovalDecision, ExecutionLog, LogLevel, RunStatus, WorkflowRun
from runs.tasks import execute_run
from runs.tracing import run_message
from runs.worker import inprocess_worker_ensure


class ApprovalClosed(DomainError):
    """The approval was decided already, or its run stopped waiting (cancelled, timed out): a decision now
    would change nothing."""

    http_status = 409
    code = "approval_closed"


@transaction.atomic
def approval_decide(*, owner: User, run_id: str, node_id: str, decision: str, comment: str = "") -> Approval:
    """Record `owner`'s decision on their run's approval node and resume the run. Another user's run, or a
    node with no approval asked, is a 404; a decided approval or a run no longer waiting a 409."""
    approval = (
        Approval.objects.select_for_update()
        .filter(run_id=run_id, node_id=node_id, run__owner=owner)
        .select_related("run")
        .first()
    )
    if approval is None:
        raise NotFound("No approval of this node is waiting in this run.")
    if approval.decision:
        raise ApprovalClosed("This approval has already been decided.", decision=approval.decision)
    if approval.run.status != RunStatus.WAITING:
        raise ApprovalClosed("The run is no longer waiting for this approval.", status=approval.run.status)
    _approval_record(approval, decision=decision, comment=comment, by=owner)
    return approval


def approvals_time_out(*, limit: int) -> int:
    """Decide `timeout` on up to `limit` approvals past their deadline whose run still waits; resume those
    runs."""
    now = timezone.now()
    overdue = Approval.objects.filter(decision="", deadline__lt=now, run__status=RunStatus.WAITING)
    timed_out = 0
    for approval_id in overdue.values_list("id", flat=True)[:limit]:
        with transaction.atomic():
            approval = overdue.select_for_update().select_related("run").filter(pk=approval_id).first()
            if approval is not None:
                _approval_record(approval, decision=ApprovalDecision.TIMEOUT, comment="", by=None)
                timed_out += 1
    return timed_out


def _approval_record(approval: Approval, *, decision: str, comment: str, by: User | None) -> None:
    now = timezone.now()
    approval.decision, approval.comment, approval.decided_by, approval.decided_at = decision, comment, by, now
    approval.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
    who = by.email if by is not None else "no one (timed out)"
    message = f"approval {decision}: {who}" + (f": {comment}" if comment else "")
    ExecutionLog.objects.create(
        run_id=approval.run_id, node_id=approval.node_id, level=LogLevel.INFO, message=message
    )
    run = approval.run
    resumed = run_message(execute_run, run.id, trace_id=run.trace_id, parent_span_id=run.trace_parent_id)
    if WorkflowRun.objects.filter(pk=run.pk, status=RunStatus.WAITING).update(
        status=RunStatus.QUEUED,
        heartbeat_at=now,
        trigger_id=resumed.message_id,
        # Admitted at once, as a continuation of a run that was admitted before (runs.admission).
        admitted_at=Coalesce(F("admitted_at"), Value(now)),
    ):
        run.status = RunStatus.QUEUED
        run_changed(run)
        data = {"nodeId": approval.node_id, "decision": decision, "comment": comment, "who": who}

        def send() -> None:
            RunEventPublisher(run=run).publish_now("approval_decided", data)
            execute_run.broker.enqueue(resumed)
            inprocess_worker_ensure()

        transaction.on_commit(send, robust=True)
