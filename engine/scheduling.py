"""Which node runs when, and the results that decide it.

A node to run is decided once every upstream node that runs now has settled: it becomes ready (started in
the order of the run's scope) or is skipped, as a branch not taken or a disabled node; a failure skips its
descendants at once. A `Schedule` holds the run's results and the outputs nodes read their inputs from, and
emits a NodeFinished for each result it records.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.events import EventSink, NodeFinished
from engine.graph import Graph, Node
from engine.ports import convert
from engine.results import NodeResult, NodeStatus
from engine.reuse import Fate, RunPlan, StoredResult


class Schedule:
    def __init__(
        self, graph: Graph, plan: RunPlan, finished: Mapping[str, Mapping[str, Any]], sink: EventSink
    ) -> None:
        self.graph = graph
        self.scope = plan.scope
        self.position = {node_id: i for i, node_id in enumerate(self.scope)}
        self.sink = sink
        self.outputs: dict[str, Mapping[str, Any]] = dict(finished)
        self.results: dict[str, NodeResult] = {}
        to_run = set(plan.with_fate(Fate.run))
        # How many distinct upstream nodes that run now each running node still waits for: it is
        # decided (ready, or skipped as a branch not taken) once all of them have settled.
        self.waiting = {
            node_id: len({e.source for e in graph.nodes[node_id].incoming if e.source in to_run})
            for node_id in self.scope
            if node_id in to_run
        }
        self.ready: list[int] = []  # positions in the scope, a heap: the first listed starts first

    def record(self, result: NodeResult) -> None:
        self.results[result.node_id] = result
        self.sink.emit(NodeFinished(result))

    def decide_first(self) -> None:
        """Decide the nodes that wait for no node that runs now."""
        self.decide([node_id for node_id, count in self.waiting.items() if count == 0])

    def make_ready(self, node_id: str) -> None:
        """Start `node_id` again (its next attempt): it is decided already."""
        heapq.heappush(self.ready, self.position[node_id])

    def next_ready(self) -> Node:
        return self.graph.nodes[self.scope[heapq.heappop(self.ready)]]

    def reuse(self, node_id: str, source: StoredResult, key: str) -> None:
        """Record an earlier result standing in for `node_id`."""
        self.outputs[node_id] = source.output
        now = datetime.now(UTC)
        self.record(
            NodeResult(
                node_id,
                self.graph.nodes[node_id].kind.type,
                NodeStatus.reused,
                output=dict(source.output),
                started_at=now,
                finished_at=now,
                duration_ms=0,
                input_tokens=0,
                output_tokens=0,
                cost=Decimal(0),
                content_key=key,
                reused_from_run=source.run_id,
                reused_from_result=source.result_id,
            )
        )

    def inputs_for(self, node: Node) -> dict[str, Any]:
        """What `node` receives, by input port, converted to the port's type."""
        inputs: dict[str, Any] = {p.name: [] for p in node.inputs if p.multiple}
        for edge in node.incoming:  # edge order: a list port receives values in edge order
            source_values = self.outputs.get(edge.source, {})  # nothing from a skipped node
            if edge.source_port not in source_values:
                continue  # a branch not taken into an input this node can do without
            value = convert(source_values[edge.source_port], edge.source_type, edge.target_type)
            if edge.target_port in inputs and isinstance(inputs[edge.target_port], list):
                inputs[edge.target_port].append(value)
            else:
                inputs[edge.target_port] = value
        return inputs

    def release_after(self, node: Node) -> None:
        """`node` succeeded: decide the nodes for which it was the last upstream node to settle."""
        self.decide(self.released_by(node))

    def released_by(self, node: Node) -> list[str]:
        """The undecided nodes to run for which `node` was the last upstream node to settle."""
        released: list[str] = []
        for target in dict.fromkeys(e.target for e in node.outgoing if e.target in self.waiting):
            self.waiting[target] -= 1
            if self.waiting[target] == 0 and target not in self.results:
                released.append(target)
        return released

    def decide(self, node_ids: list[str]) -> None:
        """Each of these nodes has every upstream node settled: make it ready, or skip it.

        A disabled node is skipped (`disabled`). A node is skipped when a required input, or every
        input it has an edge into, gets no value: `disabled` when that input's value is missing
        because of a disabled node, `branch_not_taken` otherwise. Failures never reach here: a failed
        node skips its descendants at once.
        """
        stack = list(node_ids)
        while stack:
            node = self.graph.nodes[stack.pop()]
            skip = ("disabled", "the node is disabled") if node.disabled else self.missing_input(node)
            if skip is None:
                heapq.heappush(self.ready, self.position[node.id])
                continue
            self.record(
                NodeResult(
                    node.id,
                    node.kind.type,
                    NodeStatus.skipped,
                    error_kind=skip[0],
                    error_message=skip[1],
                )
            )
            stack.extend(self.released_by(node))

    def missing_input(self, node: Node) -> tuple[str, str] | None:
        """Why `node` gets none of what it needs (its skip kind and reason), or None if it can run."""
        if not node.incoming:
            return None
        missing: dict[str, tuple[str, str]] = {}  # input port -> why the first of its edges got no value
        taken: set[str] = set()
        for edge in node.incoming:
            skipped = self.results.get(edge.source)
            if skipped is not None and skipped.status is NodeStatus.skipped:
                source = self.graph.nodes[edge.source].display_name
                if skipped.error_kind == "disabled":
                    why = ("disabled", f"upstream node {source!r} is disabled")
                else:
                    why = ("branch_not_taken", f"upstream node {source!r} was skipped")
                missing.setdefault(edge.target_port, why)
            elif edge.source_port not in self.outputs.get(edge.source, {}):
                source = self.graph.nodes[edge.source].display_name
                missing.setdefault(
                    edge.target_port,
                    ("branch_not_taken", f"output {edge.source_port!r} of {source!r} was not taken"),
                )
            else:
                taken.add(edge.target_port)
        for port in node.inputs:
            if port.required and port.name in missing and port.name not in taken:
                kind, why = missing[port.name]
                return kind, f"required input {port.name!r} got no value: {why}"
        if not taken:
            kind, why = next(iter(missing.values()))
            return kind, f"none of its inputs got a value: {why}"
        return None

    def skip_downstream(self, node: Node) -> None:
        """Mark every in-scope descendant skipped: none of them can run without this node."""
        found: set[str] = set()
        stack = [node]
        while stack:
            for edge in stack.pop().outgoing:
                if (
                    edge.target in self.position
                    and edge.target not in found
                    and edge.target not in self.results
                ):
                    found.add(edge.target)
                    stack.append(self.graph.nodes[edge.target])
        for node_id in sorted(found, key=self.position.__getitem__):
            self.record(
                NodeResult(
                    node_id,
                    self.graph.nodes[node_id].kind.type,
                    NodeStatus.skipped,
                    error_kind="upstream_failed",
                    error_message=f"upstream node {node.display_name} failed",
                )
            )

    def unsettled(self) -> Iterator[str]:
        """The nodes in scope without a result yet, in scope order (each checked as it comes)."""
        return (node_id for node_id in self.scope if node_id not in self.results)

    def first_failure(self) -> NodeResult | None:
        """The unhandled failed result (see `onError`) of the node listed first in the scope, if any."""
        failed = [r for r in self.results.values() if r.status is NodeStatus.failed and not r.handled]
        return min(failed, key=lambda r: self.position[r.node_id]) if failed else None

    def results_in_scope(self) -> dict[str, NodeResult]:
        """Every settled node's result in scope order (all of them, unless the run waits for a decision)."""
        return {node_id: self.results[node_id] for node_id in self.scope if node_id in self.results}
