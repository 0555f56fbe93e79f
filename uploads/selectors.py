"""Reads for uploads, always scoped to their owner."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import User
from core.errors import NotFound, get_or_not_found
from uploads.models import Upload


def upload_list(*, owner: User) -> QuerySet[Upload]:
    return Upload.objects.filter(owner=owner).order_by("-created_at", "-id")


def upload_get(*, owner: User, upload_id: object) -> Upload:
    """The owner's upload with this id; another user's, a missing one or a malformed id is a 404."""
    parsed = parse_upload_id(upload_id)
    if parsed is None:
        raise NotFound("No such upload.")
    return get_or_not_found(upload_list(owner=owner), message="No such upload.", pk=parsed)


def owned_upload_ids(*, owner: User, candidates: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = set(candidates)
    if not wanted:
        return set()
    return set(upload_list(owner=owner).filter(pk__in=wanted).values_list("pk", flat=True))


def parse_upload_id(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
