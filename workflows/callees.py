"""Resolving the workflows a graph calls: each Sub-workflow and Map node's `workflowId` and `version` become
the resolved callee the engine reads (`data.callee`: interface, content key, purity; see engine/calls.py).

A workflow that calls itself, directly or through others, and nesting deeper than
RUN_MAX_SUBWORKFLOW_DEPTH are refused here, with the chain in the message. Another user's workflow is
refused exactly like one that does not exist. Used on save (drafts: an unpublished callee lends its
current version's interface) and before every run (the published version, or the chosen one, must exist).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

import engine
from accounts.models import User
from core.engine_config import graph_limits
from workflows.models import Workflow, WorkflowVersion


@dataclass(frozen=True)
class Caller:
    """One workflow on a call chain: its id (None for a graph that is not saved) and name."""

    workflow_id: uuid.UUID | None
    name: str


UNSAVED_GRAPH = Caller(None, "this graph")


def chain_text(chain: Sequence[Caller]) -> str:
    return " → ".join(caller.name for caller in chain)


class _Resolver:
    def __init__(
        self,
        *,
        owner: User,
        for_run: bool,
        defaults: Mapping[str, Mapping[str, Any]] | None,
        digests: Any,
    ) -> None:
        self.owner = owner
        self.for_run = for_run
        self.defaults = defaults
        self.digests = digests
        self.limits = graph_limits()
        self.max_depth = settings.RUN_MAX_SUBWORKFLOW_DEPTH
        self.workflows: dict[str, Workflow | None] = {}
        # A version's resolved graph depends on the chain above it (cycles are judged against it).
        self.done: dict[tuple[int, tuple[Any, ...]], tuple[dict[str, Any], list[str]]] = {}

    def workflow(self, workflow_id: Any) -> Workflow | None:
        key = str(workflow_id)
        if key not in self.workflows:
            try:
                pk = uuid.UUID(key)
            except ValueError:
                self.workflows[key] = None
            else:
                # Scoped to the owner: another user's workflow is exactly as absent as a missing one.
                self.workflows[key] = Workflow.objects.filter(owner=self.owner, pk=pk).first()
        return self.workflows[key]

    def resolve(
        self, graph: Mapping[str, Any], chain: list[Caller]
    ) -> tuple[dict[str, Any], list[engine.ValidationIssue]]:
        """A copy of `graph` with every caller node's callee resolved, and the problems (with paths)."""
        nodes = graph.get("nodes")
        if not isinstance(nodes, list):
            return dict(graph), []
        issues: list[engine.ValidationIssue] = []
        resolved_nodes = []
        for i, node in enumerate(nodes):
            if isinstance(node, Mapping) and node.get("type") in engine.CALLER_KINDS:
                data = node.get("data") if isinstance(node.get("data"), Mapping) else {}
                callee, problems = self.callee(data, chain)
                issues.extend(
                    engine.ValidationIssue(f"nodes[{i}].{where}", message) for where, message in problems
                )
                node = {**node, "data": {**data, engine.CALLEE_KEY: callee}}
            elif isinstance(node, Mapping) and node.get("type") == engine.AGENT_KIND:
                node, problems = self.agent_tools(node, chain)
                issues.extend(
                    engine.ValidationIssue(f"nodes[{i}].{where}", message) for where, message in problems
                )
            resolved_nodes.append(node)
        return {**graph, "nodes": resolved_nodes}, issues

    def agent_tools(
        self, node: Mapping[str, Any], chain: list[Caller]
    ) -> tuple[Mapping[str, Any], list[tuple[str, str]]]:
        """An Agent node with each workflow tool's callee resolved (in the tool, as a caller node's)."""
        data = node.get("data") if isinstance(node.get("data"), Mapping) else {}
        tools = data.get("tools")
        if not isinstance(tools, list):
            return node, []
        problems: list[tuple[str, str]] = []
        resolved = []
        for j, tool in enumerate(tools):
            if isinstance(tool, Mapping) and tool.get("type") == "workflow":
                callee, found = self.callee(tool, chain)
                problems += [(f"data.tools[{j}].{where.removeprefix('data.')}", m) for where, m in found]
                tool = {**tool, engine.CALLEE_KEY: callee}
            resolved.append(tool)
        return {**node, "data": {**data, "tools": resolved}}, problems

    def callee(
        self, data: Mapping[str, Any], chain: list[Caller]
    ) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        workflow_id = data.get("workflowId")
        if not workflow_id:
            return None, []  # a draft that names no workflow yet (complete validation says so)
        # Below the top, a message names the workflow whose node it is about.
        where = f" (called from {chain[-1].name!r})" if len(chain) > 1 else ""
        workflow = self.workflow(workflow_id)
        if workflow is None:
            return None, [("data.workflowId", f"no workflow with id {workflow_id!r}{where}")]
        here = Caller(workflow.pk, workflow.name)
        if any(caller.workflow_id == workflow.pk for caller in chain):
            return None, [("data.workflowId", f"calls itself: {chain_text([*chain, here])}")]
        if len(chain) > self.max_depth:
            return None, [
                (
                    "data.workflowId",
                    f"sub-workflows nest deeper than {self.max_depth} levels "
                    f"(RUN_MAX_SUBWORKFLOW_DEPTH): {chain_text([*chain, here])}",
                )
            ]
        number = data.get("version")
        if number is None:
            number = workflow.published_version
            if number is None:
                if self.for_run:
                    message = f"workflow {workflow.name!r} is not published: publish it or choose a version"
                    return None, [("data.version", message + where)]
                number = workflow.version  # a draft shows the ports of the callee as it is now
        version = WorkflowVersion.objects.filter(workflow=workflow, number=number).first()
        if version is None:
            return None, [("data.version", f"workflow {workflow.name!r} has no version {number!r}{where}")]
        callee_graph, nested = self.version_graph(version, [*chain, here])
        if nested:
            return None, [("data.workflowId", nested[0])]
        key, pure = engine.callee_summary(
            callee_graph, defaults=self.defaults, digests=self.digests, limits=self.limits
        )
        interface = engine.graph_interface(callee_graph)
        return {
            "workflowId": str(workflow.pk),
            "version": version.number,
            "versionId": version.pk,
            "name": workflow.name,
            "interface": {
                "inputs": [
                    {"name": i.name, "type": i.type, "required": i.required} for i in interface.inputs
                ],
                "outputs": [{"name": o.name} for o in interface.outputs],
            },
            "key": key,
            "pure": pure,
            "llmCalls": engine.graph_llm_calls(callee_graph, limits=self.limits),
        }, []

    def version_graph(
        self, version: WorkflowVersion, chain: list[Caller]
    ) -> tuple[dict[str, Any], list[str]]:
        """The callee's graph resolved in turn, and its problems (each message says where it is)."""
        memo = (version.pk, tuple(caller.workflow_id for caller in chain))
        if memo not in self.done:
            resolved, issues = self.resolve(version.graph, chain)
            self.done[memo] = (resolved, [issue.message for issue in issues])
        return self.done[memo]


def graph_callees_resolve(
    *,
    owner: User,
    graph: Mapping[str, Any],
    caller: Caller = UNSAVED_GRAPH,
    chain: Sequence[Caller] = (),
    for_run: bool,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    digests: Any = None,
) -> tuple[dict[str, Any], list[engine.ValidationIssue]]:
    """`graph` with each Sub-workflow and Map node's `data.callee` resolved, and every problem with its path.

    `caller` is the workflow `graph` belongs to; `chain` the workflows above it (for a child run). With
    `for_run`, a node that names no version needs a published callee. `defaults` and `digests` enter the
    callees' content keys as they enter every node's (model defaults, image bytes).
    """
    resolver = _Resolver(owner=owner, for_run=for_run, defaults=defaults, digests=digests)
    return resolver.resolve(graph, [*chain, caller])


def workflow_caller(workflow: Workflow | None) -> Caller:
    return UNSAVED_GRAPH if workflow is None else Caller(workflow.pk, workflow.name)
