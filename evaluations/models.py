"""Datasets of example inputs with what they should produce, and experiments that run a workflow version
over every row (k times) and score the outputs with evaluators."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Dataset(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    row_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"], name="dataset_owner_created")]

    def __str__(self) -> str:
        return self.name


class DatasetRow(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rows")
    index = models.PositiveIntegerField(help_text="0-based, in the order the rows were added.")
    inputs = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "index"], name="dataset_row_unique_index")]

    def __str__(self) -> str:
        return f"{self.dataset_id} #{self.index}"


class ExperimentStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every row and repeat ran and was scored (the runs may have failed)
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # a budget ran out: the rows not started were skipped


class ItemStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SCORED = "scored"
    SKIPPED = "skipped"  # never started: the experiment was cancelled or stopped first


class Experiment(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experiments")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="experiments")
    workflow_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The saved version that ran; null for the draft."
    )
    version_label = models.CharField(max_length=32, help_text="What was asked: a number, published or draft.")
    nodes = models.JSONField(default=list, help_text="The graph that every run of the experiment runs.")
    edges = models.JSONField(default=list)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="experiments")
    evaluators = models.JSONField(default=list)
    repeats = models.PositiveSmallIntegerField(default=1)
    concurrency = models.PositiveSmallIntegerField(default=4)
    reuse = models.CharField(max_length=8, default="auto")
    status = models.CharField(
        max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING
    )
    stop_reason = models.TextField(blank=True)
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="The aggregates for lists and charts: refreshed while it runs, final once settled.",
    )
    summary_at = models.DateTimeField(null=True, blank=True, help_text="When `summary` was last written.")
    item_count = models.PositiveIntegerField(default=0, help_text="Rows x repeats.")
    done_count = models.PositiveIntegerField(
        default=0, help_text="Items scored or skipped, counted as each one is (the list's progress)."
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "workflow", "-created_at"], name="experiment_owner_workflow"),
            models.Index(fields=["status"], name="experiment_status"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} {self.version_label} on {self.dataset_id}"

    @property
    def graph(self) -> dict[str, list]:
        return {"nodes": self.nodes, "edges": self.edges}


class ExperimentItem(models.Model):
    """One row and repeat of an experiment: at most one run (claimed pending -> running with it), then its
    scores."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="items")
    row = models.ForeignKey(DatasetRow, on_delete=models.CASCADE, related_name="+")
    row_index = models.PositiveIntegerField()
    repeat = models.PositiveSmallIntegerField(help_text="0-based.")
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    run = models.OneToOneField(
        "runs.WorkflowRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="experiment_item"
    )
    run_status = models.CharField(max_length=16, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    scores = models.JSONField(
        default=list, blank=True, help_text="[{name, score, reason}] in evaluator order."
    )
    passed = models.BooleanField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="USD: run + judge."
    )
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "row_index", "repeat"], name="experiment_item_unique"
            )
        ]
        indexes = [models.Index(fields=["experiment", "status"], name="experiment_item_status")]

    def __str__(self) -> str:
        return f"{self.experiment_id} row {self.row_index} repeat {self.repeat}"
