"""What a run would do before it runs: a graph analysed for a run (validated, its content keys), its plan
(`plan_graph`), and the nodes downstream of one (`downstream_of`, for runs `from` a node)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from engine.context import ExecutionContext
from engine.graph import Graph
from engine.keys import NodeKey, content_keys
from engine.options import RunOptions
from engine.order import kahn_order
from engine.reuse import PlannedCalls, ResultStore, ReuseMode, RunPlan, plan_run
from engine.validation import GraphInvalid, Limits, ValidationIssue, analyse_graph


def plan_graph(
    graph: Mapping[str, Any],
    *,
    context: ExecutionContext,
    options: RunOptions = RunOptions(),
    targets: Collection[str] | None = None,
    reuse: ReuseMode = ReuseMode.auto,
    store: ResultStore | None = None,
) -> tuple[RunPlan, PlannedCalls]:
    """What `execute_graph` would do, without running anything: the plan and the model calls it foresees."""
    parsed, keys = analyse_for_run(graph, context=context, options=options, targets=targets)
    plan = plan_run(parsed, keys, targets=targets, mode=reuse, store=store)
    return plan, plan.llm_calls(parsed)


def downstream_of(graph: Mapping[str, Any], node_id: str, *, limits: Limits) -> list[str]:
    """`node_id` and every node downstream of it, in execution order (for runs `from` a node)."""
    issues, parsed = analyse_graph(graph, limits=limits)
    if issues:
        raise GraphInvalid(issues)
    if node_id not in parsed.nodes:
        raise GraphInvalid([ValidationIssue("nodeIds", f"no node with id {node_id!r}")])
    found = {node_id}
    stack = [node_id]
    while stack:
        for edge in parsed.nodes[stack.pop()].outgoing:
            if edge.target not in found:
                found.add(edge.target)
                stack.append(edge.target)
    pairs = [(e.source, e.target) for n in parsed.nodes.values() for e in n.incoming]
    order, _ = kahn_order(list(parsed.nodes), pairs)
    return [n for n in order if n in found]


def analyse_for_run(
    graph: Mapping[str, Any],
    *,
    context: ExecutionContext,
    options: RunOptions,
    targets: Collection[str] | None,
) -> tuple[Graph, dict[str, NodeKey]]:
    issues, parsed = analyse_graph(graph, limits=options.limits)
    if issues:
        raise GraphInvalid(issues)
    unknown = sorted(set(targets or ()) - parsed.nodes.keys())
    if unknown:
        raise GraphInvalid(
            [ValidationIssue("targets", f"no node with id {node_id!r}") for node_id in unknown]
        )
    return parsed, content_keys(parsed, defaults=context.defaults, digests=context.image_digests)
