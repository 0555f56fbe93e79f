"""What the apps record about a caller node's callee graph in its `data.callee` (see engine/calls.py): the
graph's content key, whether it is pure, and the model calls one run of it makes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.keys import content_keys, digest
from engine.storage import ImageDigests
from engine.validation import Limits, analyse_graph


def callee_summary(
    graph: Mapping[str, Any],
    *,
    defaults: Mapping[str, Mapping[str, Any]] | None,
    digests: ImageDigests | None,
    limits: Limits,
) -> tuple[str | None, bool]:
    """(content key, pure) of a callee's graph, its own callers already resolved.

    The key hashes every node's content key (so it covers nested callees, the deployment's model
    defaults and uploaded images' bytes); None when the graph is not valid or a key cannot be known
    (an image URL). Pure: every node computes a pure function of its key (Text, Prompt, LLM at
    temperature 0 or pinned, pure callees...), so a caller's earlier result may stand in for it.
    """
    issues, parsed = analyse_graph(graph, limits=limits)
    if issues:
        return None, False
    keys = content_keys(parsed, defaults=defaults, digests=digests)
    if any(k.key is None for k in keys.values()):
        return None, False
    pure = all(parsed.nodes[n].kind.reusable(k.data) for n, k in keys.items())
    return digest(sorted((n, k.key) for n, k in keys.items())), pure


def graph_llm_calls(graph: Mapping[str, Any], *, limits: Limits) -> int:
    """The model calls one run of a callee's graph makes, as far as the graph tells: each LLM/Vision node,
    each Sub-workflow's callee's calls, a Map's as if it had one item (0 for a graph that is not valid)."""
    issues, parsed = analyse_graph(graph, limits=limits)
    if issues:
        return 0
    return sum(
        node.kind.llm_calls(node.data) + node.kind.llm_calls_per_item(node.data)
        for node in parsed.nodes.values()
        if not node.disabled
    )
