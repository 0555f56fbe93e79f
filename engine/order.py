"""Execution order (Kahn's algorithm with a stable tie-break) and cycle detection."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def kahn_order(node_ids: Sequence[str], edges: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Topological order of `node_ids`; among ready nodes the one listed first goes first.

    Returns (order, leftover): leftover nodes are on a cycle or downstream of one.
    """
    position = {node_id: i for i, node_id in enumerate(node_ids)}
    successors: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
    indegree = dict.fromkeys(node_ids, 0)
    for source, target in edges:
        successors[source].append(target)
        indegree[target] += 1
    ready = [position[n] for n in node_ids if indegree[n] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node_id = node_ids[heapq.heappop(ready)]
        order.append(node_id)
        for successor in successors[node_id]:
            indegree[successor] -= 1
            if indegree[successor] == 0:
                heapq.heappush(ready, position[successor])
    done = set(order)
    return order, [n for n in node_ids if n not in done]


def find_cycles(node_ids: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The groups of nodes that lie on cycles (strongly connected components of two or more nodes).

    Self-loops are left to the caller. Each group lists its nodes in `node_ids` order; groups are
    ordered by their first node. Iterative Tarjan, so deep graphs cannot overflow the stack.
    """
    successors: dict[str, list[str]] = {n: [] for n in node_ids}
    for source, target in edges:
        if source != target:
            successors[source].append(target)
    position = {n: i for i, n in enumerate(node_ids)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in node_ids:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            children = successors[node]
            if child < len(children):
                work.append((node, child + 1))
                nxt = children[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # propagate to the parent once all children are done
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group, key=position.__getitem__))
    return sorted(groups, key=lambda g: position[g[0]])


def structural_edges(graph: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Node ids and (source, target) pairs, ignoring anything malformed; for ordering only."""
    nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
    edges = graph.get("edges") if isinstance(graph, Mapping) else None
    node_ids: list[str] = []
    seen: set[str] = set()
    for node in nodes if isinstance(nodes, list) else []:
        node_id = node.get("id") if isinstance(node, Mapping) else None
        if isinstance(node_id, str) and node_id not in seen:
            seen.add(node_id)
            node_ids.append(node_id)
    pairs = [
        (edge["source"], edge["target"])
        for edge in (edges if isinstance(edges, list) else [])
        if isinstance(edge, Mapping)
        and isinstance(edge.get("source"), str)
        and isinstance(edge.get("target"), str)
        and edge["source"] in seen
        and edge["target"] in seen
    ]
    return node_ids, pairs
