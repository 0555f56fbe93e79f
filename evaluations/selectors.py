"""Reads of datasets and experiments, always scoped to their owner (anyone else's is a 404)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from core.errors import DomainError, get_or_not_found
from evaluations.aggregates import experiment_aggregates, experiments_compare
from evaluations.models import Dataset, DatasetRow, Experiment, ExperimentItem, ItemStatus
from workflows.models import Workflow
from workflows.selectors import workflow_versions_diff

# The fields of an item the aggregates read, as `values()` names them.
_AGGREGATED = {
    "rowIndex": "row_index",
    "repeat": "repeat",
    "status": "status",
    "scores": "scores",
    "passed": "passed",
    "cost": "cost",
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "durationMs": "duration_ms",
}


def dataset_list(*, owner: User) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=owner).order_by("-created_at", "-pk")


def dataset_get(*, owner: User, dataset_id: uuid.UUID | str) -> Dataset:
    return get_or_not_found(Dataset.objects.filter(owner=owner), pk=dataset_id)


def dataset_rows(*, dataset: Dataset) -> QuerySet[DatasetRow]:
    return DatasetRow.objects.filter(dataset=dataset).order_by("index")


def experiment_list(*, owner: User, workflow: Workflow | None = None) -> QuerySet[Experiment]:
    experiments = Experiment.objects.filter(owner=owner).select_related("dataset")
    if workflow is not None:
        experiments = experiments.filter(workflow=workflow)
    return experiments.defer("nodes", "edges").order_by("-created_at", "-pk")


def experiment_get(*, owner: User, experiment_id: uuid.UUID | str) -> Experiment:
    return get_or_not_found(
        Experiment.objects.filter(owner=owner).select_related("dataset", "workflow"), pk=experiment_id
    )


def experiment_items(*, experiment: Experiment, failed: bool | None = None) -> QuerySet[ExperimentItem]:
    """The experiment's items in row order (repeats together), with their rows; `failed` keeps the items
    that did not pass (or only those that did)."""
    items = ExperimentItem.objects.filter(experiment=experiment).select_related("row")
    if failed is True:
        items = items.filter(status=ItemStatus.SCORED, passed=False)
    elif failed is False:
        items = items.filter(passed=True)
    return items.order_by("row_index", "repeat")


def _aggregated_items(experiment: Experiment) -> list[dict[str, Any]]:
    rows = ExperimentItem.objects.filter(experiment=experiment).values(*_AGGREGATED.values())
    return [{key: row[field] for key, field in _AGGREGATED.items()} for row in rows]


def experiment_summary(*, experiment: Experiment) -> dict[str, Any]:
    """Aggregates and progress, from the items (two queries)."""
    progress = ExperimentItem.objects.filter(experiment=experiment).aggregate(
        total=Count("pk"), **{status: Count("pk", filter=Q(status=status)) for status in ItemStatus.values}
    )
    names = [spec["name"] for spec in experiment.evaluators]
    return {
        "progress": progress,
        "aggregates": experiment_aggregates(
            _aggregated_items(experiment), evaluator_names=names, repeats=experiment.repeats
        ),
    }


def experiment_compare(*, owner: User, a_id: uuid.UUID | str, b_id: uuid.UUID | str) -> dict[str, Any]:
    """Two experiments of the same dataset side by side, with the diff of their versions when both ran
    saved versions of one workflow."""
    a = experiment_get(owner=owner, experiment_id=a_id)
    b = experiment_get(owner=owner, experiment_id=b_id)
    if a.dataset_id != b.dataset_id:
        raise DomainError(
            "Only experiments on the same dataset compare row by row.",
            errors=[{"path": "b", "message": "ran on another dataset"}],
        )
    names = [spec["name"] for spec in a.evaluators if spec["name"] in {e["name"] for e in b.evaluators}]
    a_items, b_items = _aggregated_items(a), _aggregated_items(b)
    a_aggregates = experiment_aggregates(a_items, evaluator_names=names, repeats=a.repeats)
    b_aggregates = experiment_aggregates(b_items, evaluator_names=names, repeats=b.repeats)
    comparison = experiments_compare(
        a_items, b_items, a_aggregates=a_aggregates, b_aggregates=b_aggregates, evaluator_names=names
    )
    inputs = dict(dataset_rows(dataset=a.dataset).values_list("index", "inputs"))
    for row in comparison["rows"]:
        row["inputs"] = inputs.get(row["rowIndex"])
    diff = None
    if a.workflow_id == b.workflow_id and a.workflow_version and b.workflow_version:
        diff = workflow_versions_diff(workflow=a.workflow, old=a.workflow_version, new=b.workflow_version)
    return {
        "a": {"id": str(a.pk), "version": a.version_label, "aggregates": a_aggregates},
        "b": {"id": str(b.pk), "version": b.version_label, "aggregates": b_aggregates},
        "evaluators": names,
        "versionDiff": diff,
        **comparison,
    }
