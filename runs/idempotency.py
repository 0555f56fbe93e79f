"""`Idempotency-Key`: the same key from the same user within IDEMPOTENCY_TTL gets the first run back.

A client that retries after a timeout (did the run start?) sends the key again and learns the run id
instead of starting a second run. The unique (owner, key) row is written in the transaction that creates
the run: of two concurrent requests, the second waits on the index, fails, rolls its own run back and
answers with the first one's. The row keeps a digest of the request (its path and body), so the key
answers only a repeat of that request: the same key on another endpoint, workflow or body is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.errors import RunRefused
from runs.models import IdempotencyKey, WorkflowRun

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
KEY_MAX_CHARS = IdempotencyKey._meta.get_field("key").max_length


class IdempotencyKeyInvalid(RunRefused):
    code = "idempotency_key_invalid"

    def __init__(self) -> None:
        message = f"{IDEMPOTENCY_HEADER} must be 1 to {KEY_MAX_CHARS} printable characters."
        super().__init__(message, errors=[{"path": IDEMPOTENCY_HEADER, "message": message}])


class IdempotencyKeyReused(RunRefused):
    """The key already answers a different request (another endpoint, workflow or body)."""

    http_status = 422
    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        message = (
            f"{IDEMPOTENCY_HEADER} {key!r} was already used for a different request; use a new key for this "
            "one."
        )
        super().__init__(message, errors=[{"path": IDEMPOTENCY_HEADER, "message": message}])
        self.key = key


def idempotency_key_check(key: str | None) -> str | None:
    """The key as sent (None without one); IdempotencyKeyInvalid for a blank, overlong or unprintable one."""
    if key is not None and (not key.strip() or len(key) > KEY_MAX_CHARS or not key.isprintable()):
        raise IdempotencyKeyInvalid()
    return key


@dataclass(frozen=True)
class StartedRun:
    run: WorkflowRun
    replayed: bool  # True when an earlier request with the same key started it


def request_digest(*, path: str, body: Any) -> str:
    """SHA-256 of the request as canonical JSON: key order and whitespace of the body do not matter."""
    canonical = json.dumps(
        {"path": path, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _earlier(owner: User, key: str, digest: str) -> WorkflowRun | None:
    """The run this key started within IDEMPOTENCY_TTL, if any; IdempotencyKeyReused if it was for another
    request."""
    record = (
        IdempotencyKey.objects.filter(owner=owner, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL)
        .select_related("run")
        .first()
    )
    if record is None:
        return None
    if record.request_digest != digest:
        raise IdempotencyKeyReused(key)
    return record.run


def run_start_idempotent(
    *, owner: User, key: str | None, digest: str, start: Callable[[], WorkflowRun]
) -> StartedRun:
    """`start()` once per (owner, key) within IDEMPOTENCY_TTL; without a key, every time.

    `digest` (request_digest) names the request; a key seen with another digest raises IdempotencyKeyReused.
    """
    if not key:
        return StartedRun(start(), replayed=False)
    if (run := _earlier(owner, key, digest)) is not None:
        return StartedRun(run, replayed=True)
    try:
        with transaction.atomic():
            # An expired key is free again.
            IdempotencyKey.objects.filter(
                owner=owner, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
            ).delete()
            run = start()
            IdempotencyKey.objects.create(owner=owner, key=key, request_digest=digest, run=run)
    except IntegrityError:
        # A concurrent request with this key committed first; its run is the answer if it was the same
        # request. Ours was rolled back with its enqueue (on_commit callbacks of a rolled-back block are
        # dropped).
        run = _earlier(owner, key, digest)
        if run is None:
            raise
        return StartedRun(run, replayed=True)
    return StartedRun(run, replayed=False)


def idempotency_keys_purge() -> int:
    """Delete keys older than IDEMPOTENCY_TTL (they no longer answer anything)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted
