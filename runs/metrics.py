"""The runs' Prometheus metrics: counters and histograms moved where the events happen (one increment, no
query), and the database facts (queue depth, running, waiting) read at scrape time with one query.

Every label has a bounded set of values: statuses, triggers and node kinds the code defines, and providers
and models of the price table (any other is `other`): never a user, a workflow or a free-form name.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction
from django.db.models import Count
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import engine
from engine.kinds.base import all_kinds
from runs.models import RunStatus, RunTrigger, WorkflowRun

OTHER = "other"
# From a fast node to a long workflow (RUN_TIMEOUT_SECONDS is an hour by default).
_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

RUNS_STARTED = Counter("weft_runs_started", "Runs created, by how they were started.", ["trigger"])
RUNS_FINISHED = Counter("weft_runs_finished", "Runs that reached an end, by status.", ["status"])
RUN_DURATION = Histogram(
    "weft_run_duration_seconds", "Runs' duration, started to finished.", buckets=_DURATION_BUCKETS
)
NODE_DURATION = Histogram(
    "weft_node_duration_seconds", "Executed nodes' duration, by kind.", ["kind"], buckets=_DURATION_BUCKETS
)
QUEUE_WAIT = Histogram(
    "weft_queue_wait_seconds",
    "Time from a run's creation (enqueued) to its first claim by a worker.",
    buckets=_DURATION_BUCKETS,
)
LLM_CALLS = Counter(
    "weft_llm_calls", "Model calls (nodes that called a model), by outcome.", ["provider", "model", "outcome"]
)
LLM_TOKENS = Counter(
    "weft_llm_tokens", "Tokens of model calls, input or output.", ["provider", "model", "direction"]
)
LLM_COST = Counter("weft_llm_cost_usd", "Cost of model calls in US dollars.", ["provider", "model"])
RECOVERIES = Counter(
    "weft_run_recoveries",
    "What the sweeper did: stale runs requeued, failed or cancelled, lost messages resent.",
    ["outcome"],
)
BUDGET_REFUSALS = Counter("weft_budget_refusals", "Model calls refused by an owner's daily budget.")


def run_started_count(*, trigger: str) -> None:
    """Counted when the run's creation commits (a rolled-back duplicate is not a run)."""
    label = trigger if trigger in RunTrigger.values else OTHER
    transaction.on_commit(lambda: RUNS_STARTED.labels(trigger=label).inc())


def run_finished_count(*, status: str, duration_ms: int | None) -> None:
    RUNS_FINISHED.labels(status=status if status in RunStatus.values else OTHER).inc()
    if duration_ms is not None:
        RUN_DURATION.observe(duration_ms / 1000)


def node_finished_count(result: engine.NodeResult, *, prices: engine.PriceTable) -> None:
    """A node that ran (not reused, not skipped): its duration, and its model call if it made one."""
    if result.status not in (engine.NodeStatus.succeeded, engine.NodeStatus.failed):
        return
    if result.duration_ms is not None:
        NODE_DURATION.labels(kind=_kind_label(result.node_type)).observe(result.duration_ms / 1000)
    if not result.provider:
        return
    provider, model = _model_labels(prices, result.provider, result.model or "")
    LLM_CALLS.labels(provider=provider, model=model, outcome=result.status.value).inc()
    if result.input_tokens:
        LLM_TOKENS.labels(provider=provider, model=model, direction="input").inc(result.input_tokens)
    if result.output_tokens:
        LLM_TOKENS.labels(provider=provider, model=model, direction="output").inc(result.output_tokens)
    if result.cost:
        LLM_COST.labels(provider=provider, model=model).inc(float(result.cost))


def _kind_label(node_type: str) -> str:
    return node_type if node_type in {kind.type for kind in all_kinds()} else OTHER


def _model_labels(prices: engine.PriceTable, provider: str, model: str) -> tuple[str, str]:
    models = prices.prices.get(provider)
    if models is None:
        return OTHER, OTHER
    return provider, model if model in models else OTHER


class RunStatesCollector(Collector):
    """Queued, running and waiting runs, counted at scrape time with one query on the status index."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = dict(
            WorkflowRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING))
            .values_list("status")
            .annotate(count=Count("id"))
            .order_by()
        )
        for name, status, documentation in (
            ("weft_queue_depth", RunStatus.QUEUED, "Runs queued, not yet claimed by a worker."),
            ("weft_runs_active", RunStatus.RUNNING, "Runs a worker is executing."),
            ("weft_runs_waiting", RunStatus.WAITING, "Runs waiting for an approval."),
        ):
            yield GaugeMetricFamily(name, documentation, value=counts.get(status, 0))
