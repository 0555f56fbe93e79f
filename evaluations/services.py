"""Writes of the evaluations app: datasets and their rows, planning, starting and cancelling experiments.

An experiment's runs are started by `evaluations.advancing.experiment_advance` (at most `concurrency` at a
time), never here: starting only queues its first advance once the experiment is committed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import engine
from accounts.models import User
from core.errors import DomainError, NotFound
from engine.evaluators import evaluator_issues
from evaluations.datasets import ParsedRows
from evaluations.models import (
    Dataset,
    DatasetRow,
    Experiment,
    ExperimentItem,
    ExperimentStatus,
    ItemStatus,
)
from evaluations.tasks import advance_experiment
from runs.inputs import run_inputs_validate
from runs.models import ReuseMode
from runs.services import RunAlreadyFinished, run_cancel, run_plan
from workflows.models import Workflow
from workflows.selectors import workflow_published_version, workflow_version_get

MAX_REPEATS = 10
MAX_CONCURRENCY = 32


class ExperimentInvalid(DomainError):
    code = "experiment_invalid"


class ExperimentFinished(DomainError):
    http_status = 409
    code = "experiment_finished"


# Datasets -----------------------------------------------------------------------------------


@transaction.atomic
def dataset_create(*, owner: User, name: str, description: str = "") -> Dataset:
    return Dataset.objects.create(owner=owner, name=name, description=description)


@transaction.atomic
def dataset_rows_add(*, dataset: Dataset, parsed: ParsedRows) -> Dataset:
    """Append the parsed rows, or refuse them all: a 400 naming each bad row and field, or the rows past
    DATASET_MAX_ROWS."""
    if parsed.issues:
        raise DomainError("Some rows are invalid.", errors=parsed.issues[:50])
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if locked.row_count + len(parsed.rows) > settings.DATASET_MAX_ROWS:
        raise DomainError(
            "Too many rows.",
            errors=[
                {
                    "path": "rows",
                    "message": f"the dataset has {locked.row_count} rows and may hold at most "
                    f"{settings.DATASET_MAX_ROWS} (DATASET_MAX_ROWS); this adds {len(parsed.rows)}",
                }
            ],
        )
    DatasetRow.objects.bulk_create(
        [
            DatasetRow(
                dataset=locked, index=locked.row_count + i, inputs=row["inputs"], expected=row["expected"]
            )
            for i, row in enumerate(parsed.rows)
        ],
        batch_size=1000,
    )
    Dataset.objects.filter(pk=locked.pk).update(
        row_count=F("row_count") + len(parsed.rows), updated_at=timezone.now()
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    """The dataset with its rows and the experiments run on it (their runs stay in the run history)."""
    dataset.delete()


# Experiments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentSpec:
    """What an experiment runs, checked: the graph of the asked version and its evaluators."""

    workflow: Workflow
    graph: dict[str, list]
    workflow_version: int | None
    version_label: str
    dataset: Dataset
    evaluators: list[dict[str, Any]]
    repeats: int
    concurrency: int
    reuse: str


def _version_graph(workflow: Workflow, version: int | str) -> tuple[dict[str, list], int | None, str]:
    if version == "draft":
        return workflow.graph, workflow.version, "draft"
    if version == "published":
        published = workflow_published_version(workflow=workflow)
        return published.graph, published.number, "published"
    try:
        saved = workflow_version_get(workflow=workflow, number=int(version))
    except NotFound:
        raise ExperimentInvalid(
            "No such version.",
            errors=[{"path": "version", "message": f"the workflow has no version {version}"}],
        ) from None
    return saved.graph, saved.number, str(saved.number)


def experiment_spec(
    *,
    owner: User,
    workflow: Workflow,
    version: int | str,
    dataset: Dataset,
    evaluators: list[Mapping[str, Any]],
    repeats: int = 1,
    concurrency: int = 4,
    reuse: str = ReuseMode.AUTO,
) -> ExperimentSpec:
    """Check an experiment before it is planned or started: the version, the evaluators against its outputs,
    every row's inputs against its inputs (400s at `evaluators[i].<field>`, `dataset.rows[i].inputs.<name>`).
    """
    graph, number, label = _version_graph(workflow, version)
    outputs = {spec.name for spec in engine.graph_interface(graph).outputs}
    if issues := evaluator_issues(list(evaluators), outputs=outputs):
        raise ExperimentInvalid("The evaluators are invalid.", errors=issues)
    if dataset.row_count == 0:
        raise ExperimentInvalid(
            "The dataset has no rows.", errors=[{"path": "datasetId", "message": "no rows"}]
        )
    problems: list[dict[str, str]] = []
    for row in dataset.rows.order_by("index").only("index", "inputs"):
        try:
            run_inputs_validate(owner=owner, graph=graph, values=row.inputs)
        except engine.InputsInvalid as exc:
            problems += [
                {"path": f"dataset.rows[{row.index}].{issue.path}", "message": issue.message}
                for issue in exc.issues
            ]
        if len(problems) >= 50:
            break
    if problems:
        raise ExperimentInvalid("Some rows do not fit the workflow's inputs.", errors=problems)
    return ExperimentSpec(
        workflow=workflow,
        graph=graph,
        workflow_version=number,
        version_label=label,
        dataset=dataset,
        evaluators=[dict(spec) for spec in evaluators],
        repeats=repeats,
        concurrency=concurrency,
        reuse=reuse,
    )


def experiment_plan(*, owner: User, spec: ExperimentSpec) -> dict[str, Any]:
    """How many runs and LLM calls the experiment would take, with reuse as it stands now (the repeats of a
    row are counted as its first; a deterministic node reused across repeats makes that an upper bound)."""
    calls = reused = 0
    for row in spec.dataset.rows.order_by("index").only("inputs"):
        plan, planned = run_plan(
            owner=owner, graph=spec.graph, reuse=spec.reuse, inputs=row.inputs, workflow=spec.workflow
        )
        calls += planned.total
        reused += len(plan.with_fate(engine.Fate.reuse))
    judges = sum(1 for e in spec.evaluators if e["type"] == "llm_judge")
    runs = spec.dataset.row_count * spec.repeats
    return {
        "runs": runs,
        "llmCalls": calls * spec.repeats,
        "judgeCalls": judges * runs,
        "reusedNodes": reused * spec.repeats,
        "concurrency": spec.concurrency,
    }


@transaction.atomic
def experiment_start(*, owner: User, spec: ExperimentSpec) -> Experiment:
    """Create the experiment and one pending item per row and repeat; its first advance is sent on commit."""
    rows = list(spec.dataset.rows.order_by("index").values_list("pk", "index"))
    experiment = Experiment.objects.create(
        owner=owner,
        workflow=spec.workflow,
        workflow_version=spec.workflow_version,
        version_label=spec.version_label,
        nodes=spec.graph["nodes"],
        edges=spec.graph["edges"],
        dataset=spec.dataset,
        evaluators=spec.evaluators,
        repeats=spec.repeats,
        concurrency=spec.concurrency,
        reuse=spec.reuse,
        item_count=len(rows) * spec.repeats,
    )
    ExperimentItem.objects.bulk_create(
        [
            ExperimentItem(experiment=experiment, row_id=pk, row_index=index, repeat=repeat)
            for repeat in range(spec.repeats)
            for pk, index in rows
        ],
        batch_size=1000,
    )
    experiment_id = str(experiment.pk)
    transaction.on_commit(lambda: advance_experiment.send(experiment_id))
    return experiment


@transaction.atomic
def experiment_cancel(*, experiment: Experiment) -> Experiment:
    """Skip the rows not started and cancel the runs in flight (their ends score nothing more)."""
    if not Experiment.objects.filter(pk=experiment.pk, status=ExperimentStatus.RUNNING).update(
        status=ExperimentStatus.CANCELLED, stop_reason="Cancelled.", completed_at=timezone.now()
    ):
        raise ExperimentFinished("The experiment has already finished.")
    skipped = experiment.items.filter(status=ItemStatus.PENDING).update(status=ItemStatus.SKIPPED)
    Experiment.objects.filter(pk=experiment.pk).update(done_count=F("done_count") + skipped)
    for item in experiment.items.filter(status=ItemStatus.RUNNING, run__isnull=False).select_related("run"):
        with contextlib.suppress(RunAlreadyFinished):  # it ended meanwhile: its advance scores it
            run_cancel(run=item.run)
    experiment_id = str(experiment.pk)
    # Its cancelled runs' ends advance it too; this one writes the aggregates if none was running.
    transaction.on_commit(lambda: advance_experiment.send(experiment_id))
    experiment.refresh_from_db()
    return experiment
