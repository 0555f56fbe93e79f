"""The run-start budgets: per user (EXECUTE_RATE_LIMIT) and per webhook (WEBHOOK_RATE_LIMIT).

Counted in the shared cache by django-ratelimit, so every process sees the same budget. Every way of
starting a run counts against its owner's budget: the API, webhooks and schedules.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_ratelimit.core import get_usage

from core.errors import RunRefused

USER_GROUP = "runs.execute"
WEBHOOK_GROUP = "runs.webhook"


class RunRateLimited(RunRefused):
    http_status = 429
    code = "rate_limited"


def _count(group: str, key: str, rate: str, what: str) -> None:
    usage: dict[str, Any] | None = get_usage(
        None, group=group, key=lambda _group, _request: key, rate=rate, increment=True
    )
    if usage is not None and usage["should_limit"]:
        raise RunRateLimited(f"Rate limit of {rate} {what} exceeded.", retry_after=max(1, usage["time_left"]))


def run_rate_limit_count(*, owner_id: int) -> None:
    """Count one run request of this user; RunRateLimited once over EXECUTE_RATE_LIMIT."""
    _count(USER_GROUP, f"user:{owner_id}", settings.EXECUTE_RATE_LIMIT, "run requests")


def webhook_rate_limit_count(*, webhook_id: str) -> None:
    """Count one call of this webhook; RunRateLimited once over WEBHOOK_RATE_LIMIT."""
    _count(WEBHOOK_GROUP, f"webhook:{webhook_id}", settings.WEBHOOK_RATE_LIMIT, "calls of this webhook")
