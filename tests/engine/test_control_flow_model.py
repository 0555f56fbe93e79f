"""Random graphs with conditions and merges, run by the engine and by a reference interpreter.

The interpreter below states the semantics as plainly as possible: nodes in list order (a
topological order by construction); a node with a failed (or failure-skipped) source is skipped
`upstream_failed`; one whose required input, or every input, got no value is skipped
`branch_not_taken`; otherwise it runs, with the values that did arrive. Every node's fate and
every output must match the engine's, whatever order its threads finished in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import ExecutionContext, MemorySink, execute_graph
from tests.engine.helpers import ScriptedLLM
from tests.graphs import edge, graph, node

TEXTS = ["a", "b", "ab", "", " ", "fail a", "fail"]
RULES = [
    {"operator": "contains", "value": "a"},
    {"operator": "is_empty"},
    {"operator": "equals", "value": "b"},
]
OUTPUT_PORTS = {
    "text": ["text"],
    "condition": ["true", "false"],
    "merge": ["value"],
    "prompt": ["text"],
    "llm": ["text"],
    "debug": ["value"],
}


@dataclass(frozen=True)
class Wire:
    source: str
    port: str
    target: str
    input: str


@st.composite
def control_flow_graphs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Wire]]:
    count = draw(st.integers(min_value=2, max_value=12))
    nodes: list[dict[str, Any]] = []
    wires: list[Wire] = []
    for i in range(count):
        node_id = f"n{i}"
        kind = (
            "text"
            if i == 0
            else draw(st.sampled_from(["text", "condition", "merge", "prompt", "llm", "debug"]))
        )

        def source(before: int = i) -> tuple[str, str]:
            j = draw(st.integers(min_value=0, max_value=before - 1))
            return f"n{j}", draw(st.sampled_from(OUTPUT_PORTS[nodes[j]["type"]]))

        if kind == "text":
            nodes.append(node(node_id, "text", text=draw(st.sampled_from(TEXTS))))
        elif kind == "condition":
            combine = draw(st.sampled_from(["all", "any"]))
            rules = draw(st.lists(st.sampled_from(RULES), min_size=1, max_size=2))
            nodes.append(node(node_id, "condition", combine=combine, rules=rules))
            wires.append(Wire(*source(), node_id, "value"))
        elif kind == "merge":
            nodes.append(node(node_id, "merge"))
            wires.extend(Wire(*source(), node_id, "values") for _ in range(draw(st.integers(1, 3))))
        elif kind == "prompt":
            names = ["x", "y"][: draw(st.integers(1, 2))]
            nodes.append(node(node_id, "prompt", template="|".join("{{" + name + "}}" for name in names)))
            wires.extend(Wire(*source(), node_id, name) for name in names)
        elif kind == "llm":
            nodes.append(node(node_id, "llm"))
            wires.append(Wire(*source(), node_id, "prompt"))
            if draw(st.booleans()):
                wires.append(Wire(*source(), node_id, "system"))
        else:
            nodes.append(node(node_id, "debug"))
            if draw(st.booleans()):
                wires.append(Wire(*source(), node_id, "value"))
    # Edges in a random order: Merge and list ports follow edge order, so the model must too.
    return nodes, draw(st.permutations(wires))


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def rule_holds(rule: dict[str, Any], value: Any) -> bool:
    text = as_text(value)
    if rule["operator"] == "contains":
        return "a" in text
    if rule["operator"] == "is_empty":
        return value is None or not text.strip()
    return text == "b"


REQUIRED = {"condition": {"value"}, "prompt": {"x", "y"}, "llm": {"prompt"}}


def reference(nodes: list[dict[str, Any]], wires: list[Wire]) -> dict[str, tuple[str, str | None, Any]]:
    """node id -> (status, error kind or None, output or None)."""
    fate: dict[str, tuple[str, str | None, Any]] = {}
    for spec in nodes:
        node_id, kind = spec["id"], spec["type"]
        incoming = [w for w in wires if w.target == node_id]
        if any(
            fate[w.source][:2] in {("failed", "provider_error"), ("skipped", "upstream_failed")}
            for w in incoming
        ):
            fate[node_id] = ("skipped", "upstream_failed", None)
            continue
        arrived: dict[str, list[Any]] = {}
        for wire in incoming:
            output = fate[wire.source][2]
            if output is not None and wire.port in output:
                arrived.setdefault(wire.input, []).append(output[wire.port])
        needed = {w.input for w in incoming} & REQUIRED.get(kind, set())
        if incoming and (not arrived or needed - arrived.keys()):
            fate[node_id] = ("skipped", "branch_not_taken", None)
            continue
        values = {name: got[0] for name, got in arrived.items()}
        data = spec["data"]
        if kind == "text":
            fate[node_id] = ("succeeded", None, {"text": data["text"]})
        elif kind == "condition":
            checks = [rule_holds(rule, values["value"]) for rule in data["rules"]]
            outcome = all(checks) if data["combine"] == "all" else any(checks)
            fate[node_id] = ("succeeded", None, {"true" if outcome else "false": values["value"]})
        elif kind == "merge":
            fate[node_id] = ("succeeded", None, {"value": arrived["values"][0]})
        elif kind == "prompt":
            rendered = (
                data["template"]
                .replace("{{x}}", as_text(values.get("x")))
                .replace("{{y}}", as_text(values.get("y")))
            )
            fate[node_id] = ("succeeded", None, {"text": rendered})
        elif kind == "llm":
            prompt = as_text(values["prompt"])
            if prompt.startswith("fail"):
                fate[node_id] = ("failed", "provider_error", None)
            else:
                fate[node_id] = ("succeeded", None, {"text": f"llm({prompt})"})
        else:
            fate[node_id] = ("succeeded", None, {"value": values.get("value")})
    return fate


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(control_flow_graphs())
def test_the_engine_agrees_with_the_reference_interpreter(
    case: tuple[list[dict[str, Any]], list[Wire]],
) -> None:
    nodes, wires = case
    edges = [{**edge(w.source, w.target, w.port, w.input), "id": f"e{i}"} for i, w in enumerate(wires)]
    g = graph(nodes, edges)
    llm = ScriptedLLM()
    outcome = execute_graph(g, context=ExecutionContext(llm=llm), sink=MemorySink())

    engine_fates = {
        node_id: (r.status.value, r.error_kind, r.output) for node_id, r in outcome.results.items()
    }
    assert engine_fates == reference(nodes, wires)
    for status, error_kind, _ in engine_fates.values():
        event(f"a node {status} ({error_kind})" if error_kind else f"a node {status}")
    failed = any(status == "failed" for status, _, _ in engine_fates.values())
    assert outcome.status.value == ("failed" if failed else "succeeded")
