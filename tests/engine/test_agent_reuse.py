"""When an Agent node may be reused under `auto`: pinned, or at temperature 0 with only pure tools (Code, and
workflows whose callee is pure); an HTTP or MCP tool may change or read the world, so it never is."""

from __future__ import annotations

import pytest

from engine import ExecutionContext, MemoryResultStore, StoredResult, plan_graph
from engine.kinds.base import get_kind
from tests.engine.agents import agent_graph, http_tool

CODE = {"name": "double", "type": "code", "code": "def main(inputs):\n    return 2\n"}


def _workflow(pure: bool) -> dict:
    interface = {"inputs": [], "outputs": [{"name": "answer"}]}
    callee = {"workflowId": "w", "version": 1, "interface": interface, "key": "k", "pure": pure}
    return {"name": "write", "type": "workflow", "workflowId": "w", "callee": callee}


@pytest.mark.parametrize(
    ("data", "reusable"),
    [
        ({"temperature": 0, "tools": [CODE]}, True),
        ({"temperature": 0, "tools": [CODE, _workflow(pure=True)]}, True),
        ({"temperature": 0, "tools": []}, True),
        ({"temperature": 0.7, "tools": [CODE]}, False),
        ({"temperature": 0, "tools": [CODE, _workflow(pure=False)]}, False),
        ({"temperature": 0, "tools": [http_tool()]}, False),
        ({"temperature": 0, "tools": [{"name": "m", "type": "mcp", "connection": "c", "tool": "t"}]}, False),
        ({"temperature": 0.7, "tools": [http_tool()], "pin": True}, True),
    ],
)
def test_an_agent_is_reusable_only_at_temperature_0_with_pure_tools_or_pinned(
    data: dict, reusable: bool
) -> None:
    kind = get_kind("agent")
    assert kind is not None

    assert kind.reusable(data) is reusable


def test_a_plan_reuses_a_deterministic_agent_and_runs_one_with_an_http_tool() -> None:
    context = ExecutionContext()
    pure = agent_graph("Go", [CODE], temperature=0)
    worldly = agent_graph("Go", [http_tool()], temperature=0)
    earlier = {}
    for i, graph in enumerate((pure, worldly)):
        key = plan_graph(graph, context=context)[0].nodes["agent"].key
        earlier[key] = StoredResult({"answer": "done", "transcript": []}, "earlier", i)
    store = MemoryResultStore(earlier)

    assert plan_graph(pure, context=context, store=store)[0].nodes["agent"].fate == "reuse"
    assert plan_graph(worldly, context=context, store=store)[0].nodes["agent"].fate == "run"
