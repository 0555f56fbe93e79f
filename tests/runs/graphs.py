"""Graphs in React Flow's shape for the runs tests."""

from __future__ import annotations

from typing import Any


def node(node_id: str, type_: str, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "position": {"x": 0, "y": 0}, "data": data}


def edge(source: str, source_handle: str, target: str, target_handle: str) -> dict[str, Any]:
    return {
        "id": f"{source}-{target}-{target_handle}",
        "source": source,
        "sourceHandle": source_handle,
        "target": target,
        "targetHandle": target_handle,
    }


def text_llm_chain(length: int = 3, text: str = "hello") -> dict[str, list]:
    """Text `a` -> LLM `b` -> LLM `c` ...: each LLM's prompt is the previous node's text."""
    nodes = [node("a", "text", text=text)]
    edges = []
    for i in range(1, length):
        node_id, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        nodes.append(node(node_id, "llm"))
        edges.append(edge(previous, "text", node_id, "prompt"))
    return {"nodes": nodes, "edges": edges}
