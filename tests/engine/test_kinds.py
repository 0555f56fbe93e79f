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
from tests.graphs import edge, graph, node


def test_catalog_lists_the_built_in_kinds_with_ports_and_schemas() -> None:
    catalog = {entry["type"]: entry for entry in node_kind_catalog()}
    assert list(catalog) == [
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
    ]
    outputs = {kind: [(p["name"], p["type"]) for p in entry["outputs"]] for kind, entry in catalog.items()}
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
    assert catalog["debug"]["outputs"] == [{"name": "value", "type": "any"}]
    llm = catalog["llm"]["dataSchema"]["properties"]
    assert llm["temperature"] == {
        "type": "number",
        "title": "Temperature",
        "minimum": 0,
        "maximum": 2,
        "default": 0.7,
    }
    assert llm["fallbackModel"]["default"] == "llama-3.3-70b-versatile"
    assert catalog["vision"]["dataSchema"]["properties"]["fallbackModel"]["default"] == (
        "meta-llama/llama-4-scout-17b-16e-instruct"
    )
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
