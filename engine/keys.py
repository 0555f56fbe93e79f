"""Content keys: a hash of what each node computes, taken from the graph alone.

A node's key covers its kind, its `data` with defaults applied (`label`, `pin`, `disabled` and the error
handling fields left out: naming, pinning or disabling a node, or saying what its failure gives, does not
change what it computes) and, for each input port in port
order, the keys of what feeds it in edge order. So any change upstream changes every key downstream, and
the whole plan of a run is known before anything executes. Image nodes feed the digest of their stored
bytes instead of their key; where those bytes cannot be known (a URL) the fed nodes have no key and are
never reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.graph import Graph
from engine.order import kahn_order
from engine.schema import apply_defaults
from engine.storage import ImageDigests

# Keys of data that describe the node, not its computation.
# Error handling (engine/kinds/handling.py) decides what a failure gives, not what a success computes.
_NOT_HASHED = frozenset({"label", "pin", "disabled", "onError", "errorValue", "retry", "timeoutSeconds"})


@dataclass(frozen=True)
class NodeKey:
    key: str | None  # None: what the node computes cannot be known before running (never reused)
    feed: str | None  # what the nodes fed by this one hash for its output
    data: Mapping[str, Any]  # the node's data with defaults applied


def digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_keys(
    graph: Graph,
    *,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    digests: ImageDigests | None = None,
) -> dict[str, NodeKey]:
    """Every node's key, in execution order, for a valid parsed graph."""
    pairs = [(e.source, e.target) for n in graph.nodes.values() for e in n.incoming]
    order, _ = kahn_order(list(graph.nodes), pairs)
    keys: dict[str, NodeKey] = {}
    for node_id in order:
        node = graph.nodes[node_id]
        kind = node.kind
        data = apply_defaults(kind.full_schema(), node.data, (defaults or {}).get(kind.type))
        inputs: list[list[Any]] = []
        unknown = False
        for port in node.inputs:
            fed = [[keys[e.source].feed, e.source_port] for e in node.incoming if e.target_port == port.name]
            unknown = unknown or any(feed is None for feed, _ in fed)
            inputs.append([port.name, fed])
        if unknown:
            keys[node_id] = NodeKey(None, None, data)
            continue
        key = digest(
            {
                "kind": kind.type,
                "data": {k: v for k, v in data.items() if k not in _NOT_HASHED},
                "inputs": inputs,
            }
        )
        external = kind.external_digest(data, digests)
        if external is None:
            feed: str | None = key
        else:
            feed = digest({"content": external}) if external else None
        keys[node_id] = NodeKey(key, feed, data)
    return keys
