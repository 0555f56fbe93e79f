"""The worker's side of approval steps: the decisions a run is handed (`RunApprovals`, the engine's
`Approvals`), with the checkpoints its paused Agents kept, and the Approval rows written when a run starts
waiting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

import engine
from engine.results import json_safe
from runs.models import Approval, WorkflowRun
from runs.notifications import approvals_notify


class RunApprovals:
    """The decisions taken on a run's approval steps, read once when the engine first asks."""

    def __init__(self, *, run_id: str) -> None:
        self.run_id = run_id
        self._decisions: dict[str, engine.Decision] | None = None

    def decision(self, node_id: str) -> engine.Decision | None:
        if self._decisions is None:
            decided = Approval.objects.filter(run_id=self.run_id).exclude(decision="")
            self._decisions = {
                a.node_id: engine.Decision(
                    a.decision,
                    comment=a.comment,
                    who=a.decided_by.email if a.decided_by else None,
                    when=a.decided_at.isoformat() if a.decided_at else None,
                )
                for a in decided.select_related("decided_by")
            }
        return self._decisions.get(node_id)

    def checkpoint(self, node_id: str) -> dict | None:
        """What Agent `node_id` kept when it last paused: the checkpoint of its latest asked calls."""
        asked = Approval.objects.filter(run_id=self.run_id, node_id__startswith=f"{node_id}/")
        latest = asked.exclude(checkpoint=None).order_by("-requested_at", "-id").values_list("checkpoint")
        return next((checkpoint for (checkpoint,) in latest[:1]), None)


def approvals_request(*, run: WorkflowRun, requests: Sequence[engine.ApprovalRequested]) -> None:
    """Record what the waiting run asks and tell its owner (runs.notifications); one asked before (the run
    waits again) keeps its deadline and is not told again."""
    now = timezone.now()
    asked_before = set(Approval.objects.filter(run=run).values_list("node_id", flat=True))
    rows = [
        Approval(
            run=run,
            owner_id=run.owner_id,
            node_id=request.node_id,
            subject=json_safe(request.subject),
            instructions=request.instructions,
            on_timeout=request.on_timeout,
            requested_at=now,
            deadline=now + timedelta(seconds=min(request.timeout_s, settings.APPROVAL_MAX_WAIT_SECONDS)),
            checkpoint=None if request.checkpoint is None else json_safe(request.checkpoint),
        )
        for request in requests
        if request.node_id not in asked_before
    ]
    Approval.objects.bulk_create(rows, ignore_conflicts=True)
    approvals_notify(run=run, approvals=rows)
