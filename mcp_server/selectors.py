"""Reads of the MCP server: a workflow's tool settings and the tools a token's owner may list and call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, QuerySet

import engine
from accounts.models import User
from core.engine_config import graph_limits
from mcp_server.models import WorkflowTool
from mcp_server.schemas import input_schema, output_schema
from workflows.callees import graph_callees_resolve, workflow_caller
from workflows.models import Workflow, WorkflowVersion

TOOL_NAME_MAX_CHARS = 64


def tool_name_default(workflow_name: str) -> str:
    """A slug of the workflow's name that is a valid tool name: `Summarize topic!` -> `summarize_topic`."""
    slug = re.sub(r"[^a-z0-9]+", "_", workflow_name.lower()).strip("_") or "workflow"
    if slug[0].isdigit():
        slug = f"workflow_{slug}"
    return slug[:TOOL_NAME_MAX_CHARS]


def workflow_tool_settings(*, workflow: Workflow) -> dict[str, Any]:
    """What `GET /api/workflows/{id}/mcp` answers: the stored settings, or the defaults of one never set."""
    tool = WorkflowTool.objects.filter(workflow=workflow).first()
    if tool is None:
        return {
            "enabled": False,
            "name": tool_name_default(workflow.name),
            "description": workflow.description,
        }
    return {"enabled": tool.enabled, "name": tool.name, "description": tool.description}


@dataclass(frozen=True)
class ListedTool:
    name: str
    description: str
    workflow: Workflow
    interface: engine.Interface
    pure: bool

    @property
    def input_schema(self) -> dict[str, Any]:
        return input_schema(self.interface)

    @property
    def output_schema(self) -> dict[str, Any]:
        return output_schema(self.interface)


def _listed(tool: WorkflowTool) -> ListedTool:
    workflow = tool.workflow
    version = next(iter(workflow.published), None)
    graph = version.graph if version else {"nodes": [], "edges": []}
    resolved, issues = graph_callees_resolve(
        owner=workflow.owner, graph=graph, caller=workflow_caller(workflow), for_run=True
    )
    pure = (
        not issues and engine.callee_summary(resolved, defaults=None, digests=None, limits=graph_limits())[1]
    )
    return ListedTool(tool.name, tool.description, workflow, engine.graph_interface(graph), pure)


def _tools(owner: User) -> QuerySet[WorkflowTool]:
    published = WorkflowVersion.objects.filter(number=F("workflow__published_version"))
    return (
        WorkflowTool.objects.filter(owner=owner, enabled=True, workflow__is_published=True)
        .select_related("workflow", "workflow__owner")
        .prefetch_related(Prefetch("workflow__versions", queryset=published, to_attr="published"))
        .order_by("name")
    )


def tools_listed(*, owner: User) -> list[ListedTool]:
    """The owner's enabled tools whose workflow is published, by name; nobody else's."""
    return [_listed(tool) for tool in _tools(owner)]


def tool_workflow(*, owner: User, name: str) -> Workflow | None:
    """The workflow of the owner's listed tool of that name; None for an unknown name and for another user's
    tool alike."""
    tool = _tools(owner).filter(name=name).first()
    return tool.workflow if tool else None
