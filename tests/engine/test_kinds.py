"""The kind catalog, dynamic Prompt ports, and adding a kind with one class plus registration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine import (
    MemorySink,
    Port,
    execute_graph,
    input_ports_for,
    node_kind_catalog,
    output_ports_for,
    register,
    validate_graph,
)
from engine.kinds import NodeCall, NodeKind, NodeOutput, unregister
from engine.kinds.base import all_kinds
from engine.kinds.rules import holds
from tests.graphs import edge, graph, node


def test_the_catalog_is_in_the_palette_order_the_kinds_declare() -> None:
    entries = node_kind_catalog()
    orders = [entry["palette"]["order"] for entry in entries]
    assert orders == sorted(orders)
    assert len(set(orders)) == len(orders), "two built-in kinds share a palette place"
    assert {entry["type"] for entry in entries} == {kind.type for kind in all_kinds()}
    # Each group's kinds sit together, so the palette shows every group once.
    groups = [entry["palette"]["group"] for entry in entries]
    assert [group for i, group in enumerate(groups) if i == 0 or groups[i - 1] != group] == list(
        dict.fromkeys(groups)
    )
    for entry in entries:
        assert entry["icon"]


def test_catalog_lists_the_built_in_kinds_with_ports_and_schemas() -> None:
    catalog = {entry["type"]: entry for entry in node_kind_catalog()}
    assert {"input", "text", "prompt", "image", "llm", "vision", "debug", "condition"} <= set(catalog)
    error_port = {"name": "error", "type": "json", "when": {"field": "onError", "equals": "branch"}}
    assert all(entry["outputs"][-1] == error_port for entry in catalog.values())  # every kind's, last
    outputs = {
        kind: [(p["name"], p["type"]) for p in entry["outputs"][:-1]] for kind, entry in catalog.items()
    }
    assert outputs["condition"] == [("true", "any"), ("false", "any")]
    assert outputs["extract"] == [("value", "json"), ("text", "text")]
    assert outputs["llm"] == [("text", "text"), ("json", "json")]
    assert catalog["merge"]["inputs"] == [
        {"name": "values", "type": "any", "required": False, "multiple": True}
    ]
    assert catalog["llm"]["dynamicOutputs"] is True
    assert catalog["prompt"]["inputs"] == []
    assert catalog["prompt"]["dynamicInputs"] is True
    assert catalog["vision"]["inputs"] == [
        {"name": "image", "type": "image", "required": True, "multiple": False},
        {"name": "prompt", "type": "text", "required": False, "multiple": False},
    ]
    assert catalog["debug"]["outputs"] == [{"name": "value", "type": "any"}, error_port]
    llm = catalog["llm"]["dataSchema"]["properties"]
    assert llm["temperature"] == {
        "type": "number",
        "title": "Temperature",
        "minimum": 0,
        "maximum": 2,
        "default": 0.7,
    }
    assert "default" not in llm["models"]  # a node naming none runs on the deployment's default chain
    assert llm["models"]["widget"] == "models"
    assert llm["systemPrompt"]["maxLength"] == 100_000
    assert all("label" in entry["dataSchema"]["properties"] for entry in catalog.values())


def test_llm_json_output_exists_only_with_a_json_schema() -> None:
    assert [p.name for p in output_ports_for(node("l", "llm"))] == ["text"]
    with_schema = node("l", "llm", jsonSchema={"type": "object"})
    assert [p.name for p in output_ports_for(with_schema)] == ["text", "json"]
    assert output_ports_for({"type": "mystery"}) == []


def test_prompt_ports_come_from_its_template() -> None:
    ports = input_ports_for(node("p", "prompt", template="{{ who }} likes {{what}}, says {{who}}"))
    assert ports == [Port("who", "text", required=True), Port("what", "text", required=True)]
    assert input_ports_for({"type": "mystery"}) == []


def test_prompt_renders_its_inputs(sink: MemorySink, context) -> None:
    g = graph(
        [node("a", "text", text="Ada"), node("p", "prompt", template="Hello {{ name }}, {{name}}!")],
        [edge("a", "p")],
    )
    assert execute_graph(g, context=context, sink=sink).results["p"].output == {"text": "Hello Ada, Ada!"}


@pytest.fixture
def shout_kind() -> Iterator[None]:
    @register
    class ShoutKind(NodeKind):
        type = "shout"
        label = "Shout"
        description = "Upper-cases its input."
        inputs = (Port("text", "text", required=True),)
        outputs = (Port("text", "text"),)
        data_schema = {
            "type": "object",
            "properties": {"marks": {"type": "integer", "minimum": 0, "default": 1}},
        }

        def run(self, call: NodeCall) -> NodeOutput:
            return NodeOutput({"text": call.inputs["text"].upper() + "!" * call.data["marks"]})

    yield
    unregister("shout")


@pytest.mark.usefixtures("shout_kind")
def test_a_new_kind_is_one_class_and_its_registration(sink: MemorySink, context) -> None:
    assert node_kind_catalog()[-1]["type"] == "shout"
    g = graph([node("t", "text", text="hi"), node("s", "shout", marks=2)], [edge("t", "s")])
    assert validate_graph(g) == []
    assert execute_graph(g, context=context, sink=sink).results["s"].output == {"text": "HI!!"}


def test_port_rules_are_evaluated_from_the_declaration_the_catalog_serves() -> None:
    catalog = {entry["type"]: entry for entry in node_kind_catalog()}
    # The LLM's json output and the Input's type are declared on the port, as the editor reads them.
    assert catalog["llm"]["outputs"][1]["when"] == {"field": "jsonSchema", "notNull": True}
    assert catalog["input"]["outputs"][0]["typeFrom"] == {
        "field": "type",
        "oneOf": ["text", "image"],
        "else": "text",
    }
    assert catalog["prompt"]["inputsFrom"] == {"placeholders": "template", "type": "text", "required": True}
    assert [p.name for p in output_ports_for(node("l", "llm", jsonSchema={"type": "object"}))] == [
        "text",
        "json",
    ]
    assert [p.name for p in output_ports_for(node("l", "llm", jsonSchema=None))] == ["text"]
    assert output_ports_for(node("i", "input", type="image")) == [Port("value", "image")]
    assert output_ports_for(node("i", "input", type="audio")) == [Port("value", "text")]


def test_rule_conditions() -> None:
    data = {"a": None, "b": "", "c": [], "d": "x", "e": True, "f": 1}
    assert not holds({"field": "a", "notNull": True}, data)
    assert holds({"field": "missing", "notNull": False}, data)
    assert [holds({"field": f, "notEmpty": True}, data) for f in "abcd"] == [False, False, False, True]
    assert holds({"field": "e", "equals": True}, data)
    assert not holds({"field": "f", "equals": True}, data)  # 1 is not true, as in JavaScript
    assert holds([{"field": "d", "notEmpty": True}, {"field": "e", "equals": True}], data)
    with pytest.raises(ValueError, match="unknown condition"):
        holds({"field": "a"}, data)
