"""Writes of the MCP server: switching a workflow's tool on or off, its name and description."""

from __future__ import annotations

from django.db import transaction

from core.errors import DomainError
from mcp_server.models import WorkflowTool
from workflows.models import Workflow
from workflows.signals import publication_changed


class ToolNameTaken(DomainError):
    http_status = 409
    code = "tool_name_taken"


@transaction.atomic
def workflow_tool_set(*, workflow: Workflow, enabled: bool, name: str, description: str) -> WorkflowTool:
    """Store the workflow's tool settings; an enabled tool of a published workflow is then listed at /mcp.

    Raises ToolNameTaken when another of the owner's workflows has a tool of that name.
    """
    if WorkflowTool.objects.filter(owner_id=workflow.owner_id, name=name).exclude(workflow=workflow).exists():
        raise ToolNameTaken(
            f"Another of your workflows is the tool {name!r}; choose another name.",
            errors=[{"path": "name", "message": "is already the name of another of your tools"}],
        )
    tool, _ = WorkflowTool.objects.update_or_create(
        workflow=workflow,
        defaults={
            "owner_id": workflow.owner_id,
            "enabled": enabled,
            "name": name,
            "description": description,
        },
    )
    # Sessions are told after the commit, as for a publication (its receiver is the MCP server's notices).
    owner_id = workflow.owner_id
    transaction.on_commit(
        lambda: publication_changed.send_robust(sender=WorkflowTool, owner_id=owner_id), robust=True
    )
    return tool
