"""Moving an experiment forward: score the items whose runs have ended, start the next pending ones (at most
`concurrency` running), and finish the experiment when nothing is left.

Called by the actor `experiment_advance` when the experiment starts, when one of its runs ends, and by every
sweep for running experiments, so a lost message or a dead worker only delays it. Exactly once: an item is
started under the experiment's row lock, and its run is created in the same transaction as the conditional
UPDATE pending -> running that records it, so a row and repeat never gets two runs; an item is scored by
a conditional UPDATE running -> scored, so two advances never both record one; the experiment's `done_count`
moves on in that UPDATE's transaction, only when it scored the item. A judge's call is held against the
owner's daily budget before it is made and recorded as a result of the run it judged (so the usage report
and the budget count it); a call the budget has no room for is not made, and the experiment stops.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

import engine
from connections.selectors import usable_connections
from core.engine_config import price_table, provider_config
from core.errors import RunRefused
from engine.costs import Budget
from engine.evaluators import Evaluator, Score, evaluate, judge_estimate, judge_request
from evaluations.models import Experiment, ExperimentItem, ExperimentStatus, ItemStatus
from evaluations.selectors import experiment_summary
from runs.costs import budget_for
from runs.models import NodeResult, NodeStatus, RunStatus, RunTrigger, WorkflowRun
from runs.selectors import run_outputs
from runs.services import run_start

logger = logging.getLogger(__name__)

FINAL_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
# The error kind of a node refused by the owner's daily budget (engine.budgets): the experiment stops.
BUDGET_ERROR_KIND = "budget"
# While an experiment runs, its list summary (the aggregates over every item) is rewritten at most this often.
SUMMARY_REFRESH_SECONDS = 5
# A judge's call is recorded as a result of the run it judged, under this node id and type: the daily budget
# and the usage report count it with the run's own calls. No graph node id contains a colon.
JUDGE_NODE_TYPE = "llm_judge"


def judge_node_id(evaluator: Evaluator) -> str:
    return f"judge:{evaluator.name}"


def experiment_advance(*, experiment_id: str) -> None:
    experiment = Experiment.objects.select_related("owner", "workflow").filter(pk=experiment_id).first()
    if experiment is None:
        return  # deleted with its dataset
    scored = _score_ended(experiment)
    # Items seen running (or pending) under the lock are not settled: the advance that scores the last of
    # them looks again after scoring it.
    busy = experiment.status == ExperimentStatus.RUNNING and _start_next(experiment)
    settled = (
        not busy and not experiment.items.filter(status__in=(ItemStatus.PENDING, ItemStatus.RUNNING)).exists()
    )
    if settled and experiment.status == ExperimentStatus.RUNNING:
        now = timezone.now()
        # Finished and its final figures in one statement: no reader sees it succeeded with a stale summary.
        finished = Experiment.objects.filter(pk=experiment.pk, status=ExperimentStatus.RUNNING).update(
            status=ExperimentStatus.SUCCEEDED,
            completed_at=now,
            summary=experiment_summary(experiment=experiment)["aggregates"],
            summary_at=now,
        )
        if finished:
            return
    _summary_write(experiment, scored=scored, settled=settled)


def _summary_write(experiment: Experiment, *, scored: bool, settled: bool) -> None:
    """Write the aggregates the lists and the chart show: once settled (the final figures), and while it runs
    at most every SUMMARY_REFRESH_SECONDS, since they read all its items."""
    now = timezone.now()
    due = Experiment.objects.filter(pk=experiment.pk)
    if not settled:
        recently = now - timedelta(seconds=SUMMARY_REFRESH_SECONDS)
        if not scored or (experiment.summary_at is not None and experiment.summary_at >= recently):
            return  # nothing new, or written lately as this advance read it (the UPDATE below rechecks)
        due = due.filter(Q(summary_at__isnull=True) | Q(summary_at__lt=recently))
    elif not scored:
        # Settled with nothing new scored: written already, unless it settled (a cancel) after the last write.
        due = due.filter(Q(summary_at__isnull=True) | Q(summary_at__lt=F("completed_at")))
    if due.update(summary_at=now):
        Experiment.objects.filter(pk=experiment.pk).update(
            summary=experiment_summary(experiment=experiment)["aggregates"]
        )


# Scoring ------------------------------------------------------------------------------------


def _score_ended(experiment: Experiment) -> bool:
    """Score the items whose runs have ended, or were deleted from the history before they were scored
    (nothing to score, and nothing will end); whether there were any."""
    ended = (
        experiment.items.filter(
            Q(run__status__in=FINAL_RUN_STATUSES) | Q(run__isnull=True), status=ItemStatus.RUNNING
        )
        .select_related("run", "row")
        .order_by("repeat", "row_index")
    )
    ended = list(ended)
    evaluators = [Evaluator.from_spec(spec) for spec in experiment.evaluators]
    llm = None
    if any(item.run is not None for item in ended) and any(e.type == "llm_judge" for e in evaluators):
        connections = list(usable_connections(owner=experiment.owner).values())
        llm = engine.build_llm_client(provider_config(), connections=connections)
    for item in ended:
        if item.run is None:
            _item_deleted(experiment, item, evaluators)
            continue
        try:
            _item_score(experiment, item, evaluators, llm)
        except _JudgeRefused as refusal:
            _judge_refused(experiment, item, refusal.message)
            break
    return bool(ended)


def _item_deleted(experiment: Experiment, item: ExperimentItem, evaluators: list[Evaluator]) -> None:
    with transaction.atomic():
        scored = ExperimentItem.objects.filter(pk=item.pk, status=ItemStatus.RUNNING).update(
            status=ItemStatus.SCORED,
            run_status=RunStatus.CANCELLED,
            passed=False,
            scores=[{"name": e.name, "score": 0.0, "reason": "the run was deleted"} for e in evaluators],
        )
        _count_done(experiment, scored)


def _count_done(experiment: Experiment, items: int) -> None:
    """Count items scored or skipped, in the transaction that marked them (the list's progress)."""
    if items:
        Experiment.objects.filter(pk=experiment.pk).update(done_count=F("done_count") + items)


class _JudgeRefused(Exception):
    """The owner's daily budget has no room for a judge's call: it is not made."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _item_score(
    experiment: Experiment, item: ExperimentItem, evaluators: list[Evaluator], llm: engine.LLMClient | None
) -> None:
    run = item.run
    assert run is not None
    outputs = run_outputs(run=run) if run.status == RunStatus.SUCCEEDED else {}
    judges = [e for e in evaluators if e.type == "llm_judge" and e.output in outputs]
    budget = budget_for(owner=experiment.owner, run_id=run.pk) if judges else None
    try:
        if run.status == RunStatus.SUCCEEDED:
            scores = [_evaluator_score(e, item, outputs, llm, budget) for e in evaluators]
        else:  # a run that did not finish has nothing to score: every evaluator gives 0
            scores = [Score(0.0, f"the run {run.status}") for _ in evaluators]
        judged_cost = [Decimal(str(s.cost)) for s in scores if s.cost is not None]
        costs = ([run.cost] if run.cost is not None else []) + judged_cost
        with transaction.atomic():
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
            if updated:
                _count_done(experiment, updated)
                _judge_usage_record(run, evaluators, scores)
    finally:
        if budget is not None:  # the judges' usage is recorded (or there was none): their holds go
            for judge in judges:
                budget.release(node_id=judge_node_id(judge))
    if updated and run.status == RunStatus.FAILED:
        refusal = (
            NodeResult.objects.filter(run=run, error_kind=BUDGET_ERROR_KIND)
            .values_list("error_message", flat=True)
            .first()
        )
        if refusal is not None:
            _stop(experiment, f"Stopped: {refusal}.")


def _evaluator_score(
    evaluator: Evaluator,
    item: ExperimentItem,
    outputs: dict,
    llm: engine.LLMClient | None,
    budget: Budget | None,
) -> Score:
    if budget is not None and evaluator.type == "llm_judge" and evaluator.output in outputs:
        # Held against the daily budget like a node's call, before it is made; released once recorded.
        request = judge_request(
            evaluator, outputs=outputs, expected=item.row.expected, inputs=item.row.inputs
        )
        prompt_tokens, output_tokens = judge_estimate(request)
        refusal = budget.reserve(
            node_id=judge_node_id(evaluator),
            model=next(iter(request.models), None),
            input_tokens=prompt_tokens,
            output_tokens=output_tokens,
        )
        if refusal is not None:
            raise _JudgeRefused(refusal)
    return evaluate(
        evaluator,
        outputs=outputs,
        expected=item.row.expected,
        inputs=item.row.inputs,
        llm=llm,
        prices=price_table(),
    )


def _judge_usage_record(run: WorkflowRun, evaluators: list[Evaluator], scores: list[Score]) -> None:
    """Each judge's call as a result of the run it judged, where the daily budget and the usage report count
    model calls (recorded once: the item's scoring UPDATE said this advance scored it)."""
    NodeResult.objects.bulk_create(
        [
            NodeResult(
                run_id=run.pk,
                owner_id=run.owner_id,
                node_id=judge_node_id(e),
                node_type=JUDGE_NODE_TYPE,
                status=NodeStatus.SUCCEEDED,
                provider=s.provider,
                model=s.model,
                attempts=1,
                input_tokens=s.input_tokens,
                output_tokens=s.output_tokens,
                cost=None if s.cost is None else Decimal(str(s.cost)),
            )
            for e, s in zip(evaluators, scores, strict=True)
            if e.type == "llm_judge" and s.model
        ],
        ignore_conflicts=True,
    )


def _judge_refused(experiment: Experiment, item: ExperimentItem, refusal: str) -> None:
    """A judge's call would cross the daily budget: the experiment stops, and the item it would have judged is
    skipped (a score without its judge would count as a failure)."""
    with transaction.atomic():
        skipped = ExperimentItem.objects.filter(pk=item.pk, status=ItemStatus.RUNNING).update(
            status=ItemStatus.SKIPPED, run_status=item.run.status if item.run else "", error=refusal
        )
        _count_done(experiment, skipped)
    _stop(experiment, f"Stopped: {refusal}.")


def _stop(experiment: Experiment, reason: str) -> None:
    """Stop starting runs (the ones in flight finish and are scored); the rows not started are skipped."""
    with transaction.atomic():
        if Experiment.objects.filter(pk=experiment.pk, status=ExperimentStatus.RUNNING).update(
            status=ExperimentStatus.STOPPED, stop_reason=reason, completed_at=timezone.now()
        ):
            _count_done(
                experiment,
                experiment.items.filter(status=ItemStatus.PENDING).update(status=ItemStatus.SKIPPED),
            )
    experiment.refresh_from_db()


# Starting -----------------------------------------------------------------------------------


def _start_next(experiment: Experiment) -> bool:
    """Start pending items in the free slots; whether items were seen running or left pending (so the
    experiment is not settled)."""
    with transaction.atomic():
        # The lock serialises advances of one experiment: the count of running items stays true below.
        locked = Experiment.objects.select_for_update().filter(
            pk=experiment.pk, status=ExperimentStatus.RUNNING
        )
        if not locked.exists():
            return False
        running = experiment.items.filter(status=ItemStatus.RUNNING).count()
        slots = max(0, experiment.concurrency - running)
        pending = (
            experiment.items.filter(status=ItemStatus.PENDING)
            .select_related("row")
            .order_by("repeat", "row_index")
        )
        # One more than the slots: whether any is left pending after them.
        candidates = list(pending[: slots + 1])
        started = False
        for item in candidates[:slots]:
            outcome = _item_start(experiment, item)
            if outcome is None:
                return True  # refused for now: it stays pending
            started = started or outcome == ItemStatus.RUNNING
        return running > 0 or started or len(candidates) > slots


def _item_start(experiment: Experiment, item: ExperimentItem) -> str | None:
    """Start the item's run; the item's status then (running, or scored when its run could not start), None
    when the owner may not start one now (a later advance tries again)."""
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
        return ItemStatus.RUNNING
    except RunRefused as refusal:
        logger.info("experiment %s waits to start more runs: %s", experiment.pk, refusal.message)
        return None
    except (engine.GraphInvalid, engine.InputsInvalid) as exc:
        with transaction.atomic():
            failed = _item_fail_to_start(experiment, item, str(exc))
            _count_done(experiment, failed)
        return ItemStatus.SCORED
    return ItemStatus.RUNNING


def _item_fail_to_start(experiment: Experiment, item: ExperimentItem, error: str) -> int:
    """An item whose run could not start (its inputs or graph refused) is scored 0 by every evaluator."""
    return ExperimentItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
        status=ItemStatus.SCORED,
        run_status=RunStatus.FAILED,
        passed=False,
        scores=[
            {"name": spec["name"], "score": 0.0, "reason": "the run could not start"}
            for spec in experiment.evaluators
        ],
        error=error,
    )


class _AlreadyStarted(Exception):
    """Another advance started this item first: this one's run is rolled back."""


def experiments_running(*, limit: int) -> list[str]:
    """Running experiments, oldest first, and those with items still running (a cancelled or stopped one
    still scores its runs in flight)."""
    unfinished = Experiment.objects.filter(items__status=ItemStatus.RUNNING) | Experiment.objects.filter(
        status=ExperimentStatus.RUNNING
    )
    return [
        str(pk) for pk in unfinished.distinct().order_by("created_at").values_list("pk", flat=True)[:limit]
    ]
