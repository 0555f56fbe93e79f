"""Planning a run: which nodes run, which reuse an earlier result with the same content key, which stay out.

The engine never stores results itself; it asks a `ResultStore` (the runs app looks them up in the
database, scoped to the run's owner) for earlier results by content key. A node is reused when the run
allows it (`ReuseMode`), its kind says its output is a pure function of its key (or it is pinned, or the
run asks for `all`, or the result comes from the run being resumed), a result with its key exists, and
none of its inputs is *fresh*: the output of a node that runs now without being a pure function of its
key (an LLM at temperature > 0), whose descendants must see that new output.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from engine.graph import Graph
from engine.keys import NodeKey
from engine.kinds.handling import NO_HANDLING, ErrorHandling


class ReuseMode(StrEnum):
    auto = "auto"  # reuse what the kinds allow
    none = "none"  # run everything in scope
    all = "all"  # reuse any node with a matching result, whatever its kind


class Fate(StrEnum):
    run = "run"
    reuse = "reuse"
    skip = "skip"  # outside the run's scope
    done = "done"  # finished earlier in this same run (crash recovery)


@dataclass(frozen=True)
class StoredResult:
    """An earlier succeeded result a node may reuse."""

    output: Mapping[str, Any]
    run_id: str
    result_id: int
    # From the run being resumed: reused whatever the kind says, it is the same run.
    trusted: bool = False


class ResultStore(Protocol):
    def find(self, keys: Collection[str]) -> Mapping[str, StoredResult]:
        """The best earlier result for each of `keys` that has one."""
        ...


@dataclass
class MemoryResultStore:
    """Results kept in a dict, for tests and callers without a database."""

    results: dict[str, StoredResult]

    def find(self, keys: Collection[str]) -> Mapping[str, StoredResult]:
        return {key: self.results[key] for key in keys if key in self.results}


@dataclass(frozen=True)
class NodePlan:
    node_id: str
    node_type: str
    fate: Fate
    key: str | None
    source: StoredResult | None = None  # for `reuse`


@dataclass(frozen=True)
class PlannedCalls:
    """The model calls a plan foresees: `total` for the graph (a Sub-workflow's callee's included) and,
    per Map node, the calls of each of its items (how many items there are is known only at run time)."""

    total: int
    per_item: dict[str, int]


@dataclass(frozen=True)
class RunPlan:
    nodes: dict[str, NodePlan]  # every node of the graph, in execution order
    # The nodes that say what their failure does (`onError`, `retry`, `timeoutSeconds`), by id.
    handlers: dict[str, ErrorHandling] = field(default_factory=dict)

    @property
    def scope(self) -> list[str]:
        """The nodes the run reports on (run or reused), in execution order."""
        return [n for n, plan in self.nodes.items() if plan.fate in (Fate.run, Fate.reuse)]

    def with_fate(self, fate: Fate) -> list[str]:
        return [n for n, plan in self.nodes.items() if plan.fate is fate]

    def llm_calls(self, graph: Graph) -> PlannedCalls:
        """The model calls of the nodes that would run."""
        running = [graph.nodes[n] for n in self.with_fate(Fate.run) if not graph.nodes[n].disabled]
        per_item = {node.id: node.kind.llm_calls_per_item(node.data) for node in running}
        return PlannedCalls(
            total=sum(node.kind.llm_calls(node.data) for node in running),
            per_item={node_id: calls for node_id, calls in per_item.items() if calls},
        )


def plan_run(
    graph: Graph,
    keys: Mapping[str, NodeKey],
    *,
    targets: Collection[str] | None,
    mode: ReuseMode,
    store: ResultStore | None,
    finished: Collection[str] = (),
) -> RunPlan:
    """The fate of every node. `targets` None is a full run; otherwise the targets run (they were asked
    for) with whatever they need that is neither finished nor reusable."""
    order = list(keys)
    done = set(finished)
    members = set(order) if targets is None else set(targets)
    forced = set() if targets is None else set(targets) - done
    lookup = sorted({k.key for n, k in keys.items() if k.key and n not in done})
    found = store.find(lookup) if store is not None and mode is not ReuseMode.none and lookup else {}
    sources = {n: list(dict.fromkeys(e.source for e in graph.nodes[n].incoming)) for n in order}

    def pure(node_id: str) -> bool:
        return mode is ReuseMode.all or graph.nodes[node_id].kind.reusable(keys[node_id].data)

    def reusable(node_id: str, fresh: set[str]) -> StoredResult | None:
        key = keys[node_id].key
        result = found.get(key) if key else None
        if result is None or node_id in forced or any(s in fresh for s in sources[node_id]):
            return None
        return result if (result.trusted or pure(node_id)) else None

    # Freshness flows down and need flows up; iterate until the set of running nodes stops growing.
    fresh: set[str] = set()
    while True:
        fates: dict[str, NodePlan] = {}
        needed = set(members)
        for node_id in reversed(order):
            node_type = graph.nodes[node_id].kind.type
            key = keys[node_id].key
            if node_id in done:
                fates[node_id] = NodePlan(node_id, node_type, Fate.done, key)
            elif node_id not in needed:
                fates[node_id] = NodePlan(node_id, node_type, Fate.skip, key)
            elif graph.nodes[node_id].disabled:
                # It runs only to be skipped as `disabled`: it needs nothing upstream.
                fates[node_id] = NodePlan(node_id, node_type, Fate.run, key)
            elif (source := reusable(node_id, fresh)) is not None:
                fates[node_id] = NodePlan(node_id, node_type, Fate.reuse, key, source)
            else:
                fates[node_id] = NodePlan(node_id, node_type, Fate.run, key)
                needed.update(sources[node_id])
        now_fresh: set[str] = set()
        for node_id in order:
            if fates[node_id].fate is Fate.run and (
                not pure(node_id)
                or graph.nodes[node_id].disabled  # what needs it must not reuse an older value
                or any(s in now_fresh for s in sources[node_id])
            ):
                now_fresh.add(node_id)
        if now_fresh == fresh:
            handlers = {
                n: graph.nodes[n].handling for n in order if graph.nodes[n].handling is not NO_HANDLING
            }
            return RunPlan({node_id: fates[node_id] for node_id in order}, handlers)
        fresh = now_fresh
