"""Moving an experiment forward: score the items whose runs have ended, start the next pending ones (at most
`concurrency` running), and finish the experiment when nothing is left.

Called by the actor `experiment_advance` when the experiment starts, when one of its runs ends, and by every
sweep for running experiments, so a lost message or a dead worker only delays it. Exactly once: an item is
started under the experiment's row lock, and its run is created in the same transaction as the conditional
UPDATE pending -> running that records it, so a row and repeat never gets two runs; an item is scored by
a conditional UPDATE running -> scored, so two advances never both record one.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

import engine
from connections.selectors import usable_connections
from core.engine_config import price_table, provider_config
from core.errors import RunRefused
from engine.evaluators import Evaluator, Score, evaluate
from evaluations.models import Experiment, ExperimentItem, ExperimentStatus, ItemStatus
from evaluations.selectors import experiment_summary
from runs.models import NodeResult, RunStatus, RunTrigger
from runs.selectors import run_outputs
from runs.services import run_start

logger = logging.getLogger(__name__)

FINAL_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
# The error kind of a node refused by the owner's daily budget (engine.budgets): the experiment stops.
BUDGET_ERROR_KIND = "budget"


def experiment_advance(*, experiment_id: str) -> None:
    experiment = Experiment.objects.select_related("owner", "workflow").filter(pk=experiment_id).first()
    if experiment is None:
        return  # deleted with its dataset
    scored = _score_ended(experiment)
    if experiment.status == ExperimentStatus.RUNNING:
        _start_next(experiment)
        _finish_if_done(experiment)
    # Once settled (nothing pending or running), the aggregates are written for the lists and the chart: once
    # per experiment rather than at every row, which would read all its items at each of its runs' ends.
    settled = not experiment.items.filter(status__in=(ItemStatus.PENDING, ItemStatus.RUNNING)).exists()
    if settled and (scored or not experiment.summary):
        Experiment.objects.filter(pk=experiment.pk).update(
            summary=experiment_summary(experiment=experiment)["aggregates"]
        )


# Scoring ------------------------------------------------------------------------------------


def _score_ended(experiment: Experiment) -> bool:
    """Score the items whose runs have ended; whether there were any."""
    ended = (
        experiment.items.filter(status=ItemStatus.RUNNING, run__status__in=FINAL_RUN_STATUSES)
        .select_related("run", "row")
        .order_by("repeat", "row_index")
    )
    ended = list(ended)
    evaluators = [Evaluator.from_spec(spec) for spec in experiment.evaluators]
    llm = None
    if any(e.type == "llm_judge" for e in evaluators):
        connections = list(usable_connections(owner=experiment.owner).values())
        llm = engine.build_llm_client(provider_config(), connections=connections)
    for item in ended:
        _item_score(experiment, item, evaluators, llm)
    # A run deleted from the history before it was scored: nothing to score, and nothing will end.
    deleted = experiment.items.filter(status=ItemStatus.RUNNING, run__isnull=True).update(
        status=ItemStatus.SCORED,
        run_status=RunStatus.CANCELLED,
        passed=False,
        scores=[{"name": e.name, "score": 0.0, "reason": "the run was deleted"} for e in evaluators],
    )
    return bool(ended or deleted)


def _item_score(
    experiment: Experiment, item: ExperimentItem, evaluators: list[Evaluator], llm: engine.LLMClient | None
) -> None:
    run = item.run
    assert run is not None
    outputs = run_outputs(run=run) if run.status == RunStatus.SUCCEEDED else {}
    if run.status == RunStatus.SUCCEEDED:
        scores = [
            evaluate(
                e,
                outputs=outputs,
                expected=item.row.expected,
                inputs=item.row.inputs,
                llm=llm,
                prices=price_table(),
            )
            for e in evaluators
        ]
    else:  # a run that did not finish has nothing to score: every evaluator gives 0
        scores = [Score(0.0, f"the run {run.status}") for _ in evaluators]
    judged_cost = [Decimal(str(s.cost)) for s in scores if s.cost is not None]
    costs = ([run.cost] if run.cost is not None else []) + judged_cost
    updated = ExperimentItem.objects.filter(pk=item.pk, status=ItemStatus.RUNNING).update(
        status=ItemStatus.SCORED,
        run_status=run.status,
        outputs=outputs,
        scores=[
            {"name": e.name, "score": s.score, "reason": s.reason}
            for e, s in zip(evaluators, scores, strict=True)
        ],
        passed=run.status == RunStatus.SUCCEEDED
        and all(s.score >= e.threshold for e, s in zip(evaluators, scores, strict=True)),
        cost=sum(costs, Decimal(0)) if costs else None,
        input_tokens=run.input_tokens + sum(s.input_tokens for s in scores),
        output_tokens=run.output_tokens + sum(s.output_tokens for s in scores),
        duration_ms=run.duration_ms,
        error=run.error_summary,
    )
    if updated and run.status == RunStatus.FAILED:
        refusal = (
            NodeResult.objects.filter(run=run, error_kind=BUDGET_ERROR_KIND)
            .values_list("error_message", flat=True)
            .first()
        )
        if refusal is not None:
            _stop(experiment, f"Stopped: {refusal}.")


def _stop(experiment: Experiment, reason: str) -> None:
    """Stop starting runs (the ones in flight finish and are scored); the rows not started are skipped."""
    with transaction.atomic():
        if Experiment.objects.filter(pk=experiment.pk, status=ExperimentStatus.RUNNING).update(
            status=ExperimentStatus.STOPPED, stop_reason=reason, completed_at=timezone.now()
        ):
            experiment.items.filter(status=ItemStatus.PENDING).update(status=ItemStatus.SKIPPED)
    experiment.refresh_from_db()


# Starting -----------------------------------------------------------------------------------


def _start_next(experiment: Experiment) -> None:
    with transaction.atomic():
        # The lock serialises advances of one experiment: the count of running items stays true below.
        locked = Experiment.objects.select_for_update().filter(
            pk=experiment.pk, status=ExperimentStatus.RUNNING
        )
        if not locked.exists():
            return
        slots = experiment.concurrency - experiment.items.filter(status=ItemStatus.RUNNING).count()
        pending = (
            experiment.items.filter(status=ItemStatus.PENDING)
            .select_related("row")
            .order_by("repeat", "row_index")
        )
        for item in pending[: max(0, slots)]:
            if not _item_start(experiment, item):
                break


def _item_start(experiment: Experiment, item: ExperimentItem) -> bool:
    """Start the item's run; False when the owner may not start one now (a later advance tries again)."""
    try:
        with transaction.atomic():
            started = run_start(
                owner=experiment.owner,
                trigger=RunTrigger.EVALUATION,
                trigger_ref=str(experiment.pk),
                workflow=experiment.workflow,
                graph=experiment.graph,
                workflow_version=experiment.workflow_version,
                inputs=item.row.inputs,
                reuse=experiment.reuse,
            )
            claimed = ExperimentItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
                status=ItemStatus.RUNNING, run=started.run
            )
            if not claimed:
                raise _AlreadyStarted
    except _AlreadyStarted:
        return True
    except RunRefused as refusal:
        logger.info("experiment %s waits to start more runs: %s", experiment.pk, refusal.message)
        return False
    except (engine.GraphInvalid, engine.InputsInvalid) as exc:
        ExperimentItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
            status=ItemStatus.SCORED,
            run_status=RunStatus.FAILED,
            passed=False,
            scores=[
                {"name": spec["name"], "score": 0.0, "reason": "the run could not start"}
                for spec in experiment.evaluators
            ],
            error=str(exc),
        )
    return True


class _AlreadyStarted(Exception):
    """Another advance started this item first: this one's run is rolled back."""


def _finish_if_done(experiment: Experiment) -> None:
    if experiment.items.filter(status__in=(ItemStatus.PENDING, ItemStatus.RUNNING)).exists():
        return
    Experiment.objects.filter(pk=experiment.pk, status=ExperimentStatus.RUNNING).update(
        status=ExperimentStatus.SUCCEEDED, completed_at=timezone.now()
    )


def experiments_running(*, limit: int) -> list[str]:
    """Running experiments, oldest first, and those with items still running (a cancelled or stopped one
    still scores its runs in flight)."""
    unfinished = Experiment.objects.filter(items__status=ItemStatus.RUNNING) | Experiment.objects.filter(
        status=ExperimentStatus.RUNNING
    )
    return [
        str(pk) for pk in unfinished.distinct().order_by("created_at").values_list("pk", flat=True)[:limit]
    ]
