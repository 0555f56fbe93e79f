"""Node kinds: what each node type does, its ports and its data schema.

Importing this package registers the built-in kinds: every module here is imported, so adding one is
writing a `NodeKind` subclass decorated with `@register` in a module of its own (see engine/README.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

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

# Every module of the package, in name order (the kinds' own palette places order the catalog).
for _module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
    importlib.import_module(f"{__name__}.{_module.name}")


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


def node_kind_catalog(*, max_text_chars: int = 100_000) -> list[dict[str, Any]]:
    """Every registered kind, as the editor needs it, in palette order (`palette_order`, then registration
    order): what GET /api/node-kinds serves."""
    kinds = sorted(all_kinds(), key=lambda kind: kind.palette_order)
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
