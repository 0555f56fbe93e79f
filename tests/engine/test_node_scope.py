"""The NodeScope hook: entered around each node's work on its worker thread, where the node's model calls
happen, with the node's failure passing through it (the apps open a trace span there)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine import ExecutionContext, MemorySink, RunStatus, execute_graph
from tests.engine.helpers import ScriptedLLM
from tests.graphs import edge, graph, node


@dataclass
class RecordingScope:
    """Records each scope's node, kind, thread and the exception that left it, and marks its thread as inside
    it, so that a model call can tell which node's scope it is in."""

    entered: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    inside: threading.local = field(default_factory=threading.local)

    @contextmanager
    def __call__(self, node_id: str, node_type: str) -> Iterator[None]:
        self.inside.node_id = node_id
        error = None
        try:
            yield
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            self.inside.node_id = None
            self.entered.append((node_id, node_type, threading.current_thread().name, error))


class ScopeAwareLLM(ScriptedLLM):
    def __init__(self, scope: RecordingScope) -> None:
        super().__init__()
        self.scope = scope
        self.called_inside: list[str | None] = []

    def generate(self, request, **kwargs):
        self.called_inside.append(getattr(self.scope.inside, "node_id", None))
        return super().generate(request, **kwargs)


def test_each_node_runs_inside_its_scope_on_its_worker_thread_and_a_failure_passes_through_it() -> None:
    scope = RecordingScope()
    llm = ScopeAwareLLM(scope)
    nodes = [
        node("q", "text", text="hello"),
        node("ask", "llm"),
        node("bad-q", "text", text="fail"),
        node("bad", "llm"),
    ]
    edges = [edge("q", "ask", None, "prompt"), edge("bad-q", "bad", None, "prompt")]

    outcome = execute_graph(
        graph(nodes, edges), context=ExecutionContext(llm=llm, node_scope=scope), sink=MemorySink()
    )

    assert outcome.status is RunStatus.failed
    by_node = {node_id: (kind, thread, error) for node_id, kind, thread, error in scope.entered}
    assert set(by_node) == {"q", "ask", "bad-q", "bad"}
    assert by_node["ask"] == ("llm", by_node["ask"][1], None)
    assert by_node["bad"][2] is not None  # the node's failure left its scope as an exception
    assert all(thread.startswith("weft-node") for _, thread, _ in by_node.values())
    assert sorted(llm.called_inside) == ["ask", "bad"]
