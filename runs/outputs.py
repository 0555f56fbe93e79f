"""A run's outputs by name: what each Output node of its graph received."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import engine
from runs.models import NodeResult, NodeStatus, WorkflowRun


def outputs_by_name(*, run: WorkflowRun, results: Iterable[NodeResult]) -> dict[str, Any]:
    """Each Output node's name -> the value it received, run or reused (null when it did neither)."""
    by_node = {result.node_id: result for result in results}
    outputs: dict[str, Any] = {}
    for spec in engine.graph_interface(run.graph).outputs:
        result = by_node.get(spec.node_id)
        # A reused result stores its output as a run one does; without it, a child run whose Output nodes
        # were reused (a Map over repeated items) would answer nulls.
        received = result is not None and result.status in (NodeStatus.SUCCEEDED, NodeStatus.REUSED)
        outputs[spec.name] = (result.output or {}).get("value") if received else None
    return outputs
