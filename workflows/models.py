"""Saved workflows and the immutable snapshot of every version saved."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import TimeStampedModel


class Workflow(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    nodes = models.JSONField(default=list, blank=True)
    edges = models.JSONField(default=list, blank=True)
    # Sticky notes and groups drawn on the canvas (engine/annotations.py): saved, never run.
    notes = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    is_published = models.BooleanField(default=False)
    # Written by the runs app whenever one of the workflow's runs is created, changes status or is
    # deleted, so that workflows can show them without depending on runs.
    run_count = models.PositiveIntegerField(default=0, editable=False)
    # NULL until the first run, as the API shows it.
    last_run_status = models.CharField(max_length=16, null=True, blank=True, editable=False)  # noqa: DJ001
    published_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version API, webhook and schedule runs use; null: unpublished."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], name="workflow_created_desc"),
            models.Index(fields=["owner", "-created_at"], name="workflow_owner_created_desc"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(version__gte=1), name="workflow_version_positive"),
            models.CheckConstraint(
                condition=models.Q(is_published=models.Q(published_version__isnull=False)),
                name="workflow_published_has_version",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def graph(self) -> dict[str, list]:
        """What runs: the nodes and edges (notes and groups are drawn beside them, never run)."""
        return {"nodes": self.nodes, "edges": self.edges}

    @property
    def drawing(self) -> dict[str, list]:
        """The graph with the notes and groups drawn on the canvas, as the editor saves it."""
        return {**self.graph, "notes": self.notes, "groups": self.groups}


class WorkflowVersion(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    nodes = models.JSONField(default=list, blank=True)
    edges = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True)
    # What the person saving said about this version ("tighter prompt"); empty when they said nothing.
    note = models.CharField(max_length=200, blank=True, default="")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflowversion_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def graph(self) -> dict[str, list]:
        """What runs: the nodes and edges (notes and groups are drawn beside them, never run)."""
        return {"nodes": self.nodes, "edges": self.edges}

    @property
    def drawing(self) -> dict[str, list]:
        """The graph with the notes and groups drawn on the canvas, as the editor saves it."""
        return {**self.graph, "notes": self.notes, "groups": self.groups}
