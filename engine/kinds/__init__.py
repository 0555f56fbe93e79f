"""Node kinds: what each node type does, its ports and its data schema.

Importing this package registers the built-in kinds. To add one, write a `NodeKind` subclass
decorated with `@register` in a module here and import it below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.kinds import (  # noqa: F401  (registers the built-ins)
    condition,
    debug,
    extract,
    image,
    io,
    llm,
    merge,
    prompt,
    subworkflow,
    text,
)
from engine.kinds.base import (
    NodeCall,
    NodeError,
    NodeKind,
    NodeOutput,
    all_kinds,
    get_kind,
    register,
    unregister,
)
from engine.ports import Port


def input_ports_for(node: Mapping[str, Any]) -> list[Port]:
    """The input ports of one node, including a Prompt's placeholder ports; [] for unknown kinds."""
    kind = get_kind(node.get("type")) if isinstance(node.get("type"), str) else None
    data = node.get("data")
    if kind is None:
        return []
    return list(kind.input_ports(data if isinstance(data, Mapping) else {}))


def output_ports_for(node: Mapping[str, Any]) -> list[Port]:
    """The output ports of one node with its data (an LLM's `json` needs a `jsonSchema`)."""
    kind = get_kind(node.get("type")) if isinstance(node.get("type"), str) else None
    data = node.get("data")
    if kind is None:
        return []
    return list(kind.output_ports(data if isinstance(data, Mapping) else {}))


# The palette order of the built-ins (the control-flow kinds after Debug, so the older kinds keep
# their places); kinds registered later follow in registration order.
_PALETTE = (
    "input",
    "text",
    "prompt",
    "image",
    "llm",
    "vision",
    "debug",
    "condition",
    "merge",
    "extract",
    "subworkflow",
    "map",
    "output",
)


def node_kind_catalog(*, max_text_chars: int = 100_000) -> list[dict[str, Any]]:
    """Every registered kind, as the editor needs it (ports, labels, data schema)."""
    kinds = sorted(all_kinds(), key=lambda k: _PALETTE.index(k.type) if k.type in _PALETTE else len(_PALETTE))
    return [kind.describe(max_text_chars=max_text_chars) for kind in kinds]


__all__ = [
    "NodeCall",
    "NodeError",
    "NodeKind",
    "NodeOutput",
    "get_kind",
    "input_ports_for",
    "node_kind_catalog",
    "output_ports_for",
    "register",
    "unregister",
]
