"""What model calls cost: the daily budgets that the engine consults before each call (priced by
core.engine_config.price_table), and a user's usage report."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from core.engine_config import price_table
from runs.metrics import BUDGET_REFUSALS
from runs.models import BudgetHold, NodeResult, UserBudget
from runs.reconnect import reconnecting


def day_start(day: date | None = None) -> datetime:
    """Midnight UTC starting `day` (default today): budgets and usage count UTC days."""
    return datetime.combine(day or timezone.now().astimezone(UTC).date(), time.min, tzinfo=UTC)


class DailyBudget:
    """`engine.Budget` for one user's run: today's recorded usage plus the calls in flight (of this run and of
    the user's other runs, on any worker: `BudgetHold` rows) must stay within the daily limits. Each
    reservation locks the user's row, so two runs cannot both take the last of a budget."""

    def __init__(
        self, *, owner: User, run_id: uuid.UUID, daily_cost: Decimal | None, daily_tokens: int | None
    ) -> None:
        self.owner = owner
        self.run_id = run_id
        self.daily_cost = daily_cost
        self.daily_tokens = daily_tokens
        self.prices = price_table()

    def reserve(
        self, *, node_id: str, model: str | None, input_tokens: int, output_tokens: int
    ) -> str | None:
        cost = self.prices.cost(None, model, input_tokens, output_tokens) or Decimal(0)
        return reconnecting(lambda: self._reserve(node_id, input_tokens + output_tokens, cost))

    @transaction.atomic
    def _reserve(self, node_id: str, tokens: int, cost: Decimal) -> str | None:
        User.objects.select_for_update().filter(pk=self.owner.pk).exists()
        used = usage_today(owner=self.owner)
        live = timezone.now() - timedelta(seconds=settings.RUN_NODE_TIMEOUT_SECONDS)
        held = BudgetHold.objects.filter(owner=self.owner, created_at__gte=live).aggregate(
            tokens=Sum("tokens"), cost=Sum("cost")
        )
        if self.daily_tokens is not None:
            remaining = self.daily_tokens - used["tokens"] - (held["tokens"] or 0)
            if tokens > remaining:
                BUDGET_REFUSALS.inc()
                return (
                    f"daily token budget of {self.daily_tokens} reached: this call may use {tokens} tokens "
                    f"and {max(0, remaining)} remain today"
                )
        if self.daily_cost is not None:
            remaining_cost = self.daily_cost - used["cost"] - (held["cost"] or Decimal(0))
            if cost > remaining_cost:
                BUDGET_REFUSALS.inc()
                return (
                    f"daily cost budget of {dollars(self.daily_cost)} reached: this call may cost "
                    f"{dollars(cost)} and {dollars(max(Decimal(0), remaining_cost))} remain today"
                )
        BudgetHold.objects.update_or_create(
            run_id=self.run_id,
            node_id=node_id,
            defaults={
                "owner": self.owner,
                "tokens": tokens,
                "cost": cost,
                "created_at": timezone.now(),
            },
        )
        return None

    def release(self, *, node_id: str) -> None:
        reconnecting(lambda: BudgetHold.objects.filter(run_id=self.run_id, node_id=node_id).delete())


def dollars(amount: Decimal) -> str:
    """`$30`, `$0.000125`: no trailing zeros from the six stored decimals."""
    return f"${amount.normalize():f}"


def usage_today(*, owner: User) -> dict[str, int | Decimal]:
    totals = NodeResult.objects.filter(owner=owner, created_at__gte=day_start(), model__gt="").aggregate(
        input=Sum("input_tokens"), output=Sum("output_tokens"), cost=Sum("cost")
    )
    return {"tokens": (totals["input"] or 0) + (totals["output"] or 0), "cost": totals["cost"] or Decimal(0)}


def budget_for(*, owner: User, run_id: uuid.UUID) -> DailyBudget | None:
    """The user's daily budget (their UserBudget's limits, else the settings'), None when unlimited."""
    override = UserBudget.objects.filter(owner=owner).first()
    daily_cost = settings.RUN_DAILY_COST_BUDGET
    daily_tokens = settings.RUN_DAILY_TOKEN_BUDGET
    if override is not None:
        daily_cost = override.daily_cost if override.daily_cost is not None else daily_cost
        daily_tokens = override.daily_tokens if override.daily_tokens is not None else daily_tokens
    if daily_cost is None and daily_tokens is None:
        return None
    return DailyBudget(owner=owner, run_id=run_id, daily_cost=daily_cost, daily_tokens=daily_tokens)


# A usage report asked for no first day covers the last 30 UTC days, its last day included.
USAGE_DEFAULT_DAYS = 30
USAGE_MAX_DAYS = 366
_GROUPS = {
    "day": ("day",),
    "model": ("provider", "model"),
    "workflow": ("run__workflow_id", "run__workflow__name"),
}


def usage_report(*, owner: User, start: date, end: date, group_by: str) -> dict[str, Any]:
    """A user's model calls between two UTC days (both included), summed per day, model or workflow.

    Reused results made no call and are not counted. Two queries: the groups and the total.
    """
    calls = NodeResult.objects.filter(
        owner=owner,
        created_at__gte=day_start(start),
        created_at__lt=day_start(end + timedelta(days=1)),
        model__gt="",
    )
    # Named apart from the model's fields, which the unpriced count filters on.
    sums = {
        "n_calls": Count("id"),
        "sum_input": Sum("input_tokens"),
        "sum_output": Sum("output_tokens"),
        "sum_cost": Sum("cost"),
        "n_unpriced": Count("id", filter=Q(cost__isnull=True)),
    }
    fields = _GROUPS[group_by]
    rows = calls.annotate(day=TruncDate("created_at", tzinfo=UTC)) if group_by == "day" else calls
    grouped = rows.values(*fields).annotate(**sums).order_by(*fields)
    results = [_usage_row(group_by, row) for row in grouped]
    total = _usage_row(None, calls.aggregate(**sums))
    return {"from": start, "to": end, "groupBy": group_by, "results": results, "total": total}


def _usage_row(group_by: str | None, row: dict[str, Any]) -> dict[str, Any]:
    if group_by == "day":
        key = label = row["day"].isoformat()
    elif group_by == "model":
        key = label = f"{row['provider']}/{row['model']}"
    elif group_by == "workflow":
        key = str(row["run__workflow_id"] or "")
        label = row["run__workflow__name"] or "Unsaved graphs and deleted workflows"
    else:
        key, label = "total", "Total"
    return {
        "key": key,
        "label": label,
        "calls": row["n_calls"],
        "inputTokens": row["sum_input"] or 0,
        "outputTokens": row["sum_output"] or 0,
        "cost": row["sum_cost"],
        "unpricedCalls": row["n_unpriced"],
    }
