"""What a run's scope means: the node ids each scope takes, and the nodes a run of it executes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import engine
from core.engine_config import graph_limits
from runs.models import RunScope


def scope_issues(graph: dict[str, Any], scope: str, node_ids: Sequence[str]) -> list[engine.ValidationIssue]:
    known = {node.get("id") for node in graph["nodes"] if isinstance(node, dict)}
    issues = [
        engine.ValidationIssue(f"nodeIds[{i}]", f"no node with id {node_id!r} in the graph")
        for i, node_id in enumerate(node_ids)
        if node_id not in known
    ]
    if scope == RunScope.NODE and len(node_ids) != 1:
        issues.append(engine.ValidationIssue("nodeIds", "a node run needs exactly one node id"))
    elif scope == RunScope.FROM and len(node_ids) != 1:
        issues.append(engine.ValidationIssue("nodeIds", "a run from a node needs exactly one node id"))
    elif scope == RunScope.SELECTION and not node_ids:
        issues.append(engine.ValidationIssue("nodeIds", "a selection run needs at least one node id"))
    elif scope == RunScope.FULL and node_ids:
        issues.append(engine.ValidationIssue("nodeIds", "a full run takes no node ids"))
    return issues


def scope_targets(*, graph: dict[str, Any], scope: str, node_ids: Sequence[str]) -> list[str] | None:
    """The nodes a run is asked to run: None for all of them (engine.execute_graph's `targets`)."""
    if scope == RunScope.FULL:
        return None
    if scope == RunScope.FROM:
        return engine.downstream_of(graph, node_ids[0], limits=graph_limits())
    return list(node_ids)
