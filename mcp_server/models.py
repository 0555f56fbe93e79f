"""A workflow's MCP tool settings: whether it is offered, under which name and description."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class WorkflowTool(TimeStampedModel):
    workflow = models.OneToOneField("workflows.Workflow", on_delete=models.CASCADE, related_name="mcp_tool")
    # The workflow's owner, copied so that a user's tool names are unique by a constraint.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True, max_length=2000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="mcp_tool_owner_name_unique")]

    def __str__(self) -> str:
        return self.name
