"""Graphs in React Flow's shape, for every test and benchmark: nodes, edges and a few ready-made graphs."""

from __future__ import annotations

from typing import Any


def node(node_id: str, type_: str, *, position: tuple[int, int] = (0, 0), **data: Any) -> dict[str, Any]:
    x, y = position
    return {"id": node_id, "type": type_, "position": {"x": x, "y": y}, "data": data}


def edge(
    source: str, target: str, source_handle: str | None = None, target_handle: str | None = None
) -> dict[str, Any]:
    """An edge from `source`'s output port to `target`'s input port (None: the node's only port).

    Its id is made of its endpoints, so the same graph always gets the same ids.
    """
    return {
        "id": f"{source}.{source_handle or ''}-{target}.{target_handle or ''}",
        "source": source,
        "sourceHandle": source_handle,
        "target": target,
        "targetHandle": target_handle,
    }


def graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None) -> dict[str, list]:
    return {"nodes": nodes, "edges": edges or []}


def text_to_debug_graph(text: str = "hello") -> dict[str, list]:
    """The smallest useful valid graph: a Text node feeding a Debug node."""
    return graph(
        [node("text-1", "text", text=text), node("debug-1", "debug")],
        [edge("text-1", "debug-1", "text", "value")],
    )


def text_llm_chain(length: int = 3, text: str = "hello") -> dict[str, list]:
    """Text `a` -> LLM `b` -> LLM `c` ...: each LLM's prompt is the previous node's text."""
    nodes = [node("a", "text", text=text)]
    edges = []
    for i in range(1, length):
        node_id, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        nodes.append(node(node_id, "llm"))
        edges.append(edge(previous, node_id, "text", "prompt"))
    return graph(nodes, edges)


def workflow_payload(name: str = "My flow", text: str = "hello", **extra: Any) -> dict[str, Any]:
    """A `POST /api/workflows` body around `text_to_debug_graph`."""
    return {"name": name, "description": "", **text_to_debug_graph(text), **extra}


def callable_graph(template: str = "Write about {{topic}}") -> dict[str, list]:
    """A workflow with an interface: inputs `topic` (text, required), `style` (text, default "plain") and
    `photo` (image, optional); outputs `answer` (the prompt filled with the topic), `style` and `photo`."""
    return graph(
        [
            node("topic", "input", name="topic", type="text", description="What to write about"),
            node("style", "input", name="style", type="text", default="plain"),
            node("photo", "input", name="photo", type="image", required=False),
            node("prompt", "prompt", template=template),
            node("answer", "output", name="answer"),
            node("style-out", "output", name="style"),
            node("photo-out", "output", name="photo"),
        ],
        [
            edge("topic", "prompt", "value", "topic"),
            edge("prompt", "answer", "text", "value"),
            edge("style", "style-out", "value", "value"),
            edge("photo", "photo-out", "value", "value"),
        ],
    )


def llm_callee() -> dict[str, list]:
    """A callable workflow: Input `item` -> LLM -> Output `answer` (it runs as long as the model takes)."""
    return graph(
        [node("item", "input", name="item"), node("llm", "llm"), node("answer", "output", name="answer")],
        [edge("item", "llm", "value", "prompt"), edge("llm", "answer", "text", "value")],
    )


def sticky_note(note_id: str = "note-1", text: str = "Remember **this**", **fields: Any) -> dict[str, Any]:
    """A sticky note as the editor saves it (engine/annotations.py)."""
    return {
        "id": note_id,
        "position": {"x": 40, "y": -120},
        "width": 200,
        "height": 120,
        "text": text,
        "color": "yellow",
        **fields,
    }


def node_group(group_id: str = "group-1", nodes: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """A group frame around nodes (by default those of `text_to_debug_graph`)."""
    return {
        "id": group_id,
        "title": "Greeting",
        "nodes": ["text-1", "debug-1"] if nodes is None else nodes,
        "color": "blue",
        **fields,
    }
