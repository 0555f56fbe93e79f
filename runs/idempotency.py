"""`Idempotency-Key`: the same key from the same user within IDEMPOTENCY_TTL gets the first run back.

A client that retries after a timeout (did the run start?) sends the key again and learns the run id
instead of starting a second run. The unique (owner, key) row is written in the transaction that creates
the run: of two concurrent requests, the second waits on the index, fails, rolls its own run back and
answers with the first one's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from runs.models import IdempotencyKey, WorkflowRun

IDEMPOTENCY_TTL = timedelta(hours=24)
KEY_MAX_CHARS = IdempotencyKey._meta.get_field("key").max_length


@dataclass(frozen=True)
class StartedRun:
    run: WorkflowRun
    replayed: bool  # True when an earlier request with the same key started it


def _earlier(owner: User, key: str) -> WorkflowRun | None:
    record = (
        IdempotencyKey.objects.filter(owner=owner, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL)
        .select_related("run")
        .first()
    )
    return record.run if record else None


def run_start_idempotent(*, owner: User, key: str | None, start: Callable[[], WorkflowRun]) -> StartedRun:
    """`start()` once per (owner, key) within IDEMPOTENCY_TTL; without a key, every time."""
    if not key:
        return StartedRun(start(), replayed=False)
    if (run := _earlier(owner, key)) is not None:
        return StartedRun(run, replayed=True)
    try:
        with transaction.atomic():
            # An expired key is free again.
            IdempotencyKey.objects.filter(
                owner=owner, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
            ).delete()
            run = start()
            IdempotencyKey.objects.create(owner=owner, key=key, run=run)
    except IntegrityError:
        # A concurrent request with this key committed first; its run is the answer. Ours was rolled
        # back with its enqueue (on_commit callbacks of a rolled-back block are dropped).
        run = _earlier(owner, key)
        if run is None:
            raise
        return StartedRun(run, replayed=True)
    return StartedRun(run, replayed=False)


def idempotency_keys_purge() -> int:
    """Delete keys older than IDEMPOTENCY_TTL (they no longer answer anything)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted
