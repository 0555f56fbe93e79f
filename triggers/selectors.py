"""Reads for triggers, always scoped to their owner; another user's trigger is a 404."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accounts.models import User
from core.errors import get_or_not_found
from triggers.models import Schedule, Webhook
from workflows.models import Workflow


def webhook_list(*, owner: User, workflow: Workflow) -> QuerySet[Webhook]:
    return Webhook.objects.filter(owner=owner, workflow=workflow).order_by("-created_at", "-pk")


def webhook_get(*, owner: User, webhook_id: uuid.UUID | str) -> Webhook:
    return get_or_not_found(Webhook.objects.filter(owner=owner), pk=webhook_id)


def schedule_list(*, owner: User, workflow: Workflow) -> QuerySet[Schedule]:
    return Schedule.objects.filter(owner=owner, workflow=workflow).order_by("-created_at", "-pk")


def schedule_get(*, owner: User, schedule_id: uuid.UUID | str) -> Schedule:
    # With its workflow and owner: an update checks its inputs against the workflow's interface.
    return get_or_not_found(
        Schedule.objects.filter(owner=owner).select_related("workflow", "owner"), pk=schedule_id
    )
