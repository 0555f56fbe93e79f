"""A run's outputs by name: what each Output node of its graph received."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import engine
from runs.models import NodeResult, NodeStatus, WorkflowRun


def outputs_by_name(*, run: WorkflowRun, results: Iterable[NodeResult]) -> dict[str, Any]:
    """Each Output node's name -> the value it received in this run (null when it did not run)."""
    by_node = {result.node_id: result for result in results}
    outputs: dict[str, Any] = {}
    for spec in engine.graph_interface(run.graph).outputs:
        result = by_node.get(spec.node_id)
        succeeded = result is not None and result.status == NodeStatus.SUCCEEDED
        outputs[spec.name] = (result.output or {}).get("value") if succeeded else None
    return outputs
