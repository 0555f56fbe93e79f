"""Validation reports every problem at once, each with a path into the graph."""

from __future__ import annotations

import pytest

from engine import GraphInvalid, Limits, ValidationIssue, ensure_valid, execution_order, validate_graph
from tests.graphs import edge, graph, node


def paths(issues: list[ValidationIssue]) -> list[str]:
    return [issue.path for issue in issues]


def messages_at(issues: list[ValidationIssue], path: str) -> list[str]:
    return [issue.message for issue in issues if issue.path == path]


def valid_graph() -> dict:
    return graph(
        [
            node("topic", "text", text="otters"),
            node("ask", "prompt", template="Tell me about {{topic}}"),
            node("photo", "image", uploadId="u1"),
            node("answer", "llm", temperature=0.2),
            node("look", "vision"),
            node("show", "debug", label="Show"),
        ],
        [
            edge("topic", "ask"),
            edge("ask", "answer", "text", "prompt"),
            edge("photo", "answer", "image", "images"),
            edge("photo", "look", None, "image"),
            edge("answer", "show"),
        ],
    )


def test_a_complete_graph_is_valid() -> None:
    assert validate_graph(valid_graph()) == []
    ensure_valid(valid_graph())


def test_react_flow_export_with_extra_keys_loads_as_is() -> None:
    g = valid_graph()
    g["viewport"] = {"x": 0, "y": 0, "zoom": 1}
    g["nodes"][0].update(width=150, height=40, selected=True, measured={"width": 150, "height": 40})
    g["nodes"][0]["data"]["editorColour"] = "teal"
    g["edges"][0].update(type="smoothstep", animated=True, style={"stroke": "#333"})
    assert validate_graph(g) == []


@pytest.mark.parametrize(
    ("garbage", "path"),
    [(None, "graph"), ([], "graph"), ("x", "graph"), ({"nodes": {}}, "nodes"), ({"edges": 3}, "edges")],
)
def test_garbage_is_reported_not_raised(garbage: object, path: str) -> None:
    assert path in paths(validate_graph(garbage))


def test_malformed_nodes_and_edges_get_their_own_paths() -> None:
    g = graph(
        [7, node("a", "text"), {"id": "", "type": "text"}, {"id": "b", "type": "text", "data": "hi"}],
        ["nope", {"id": "e", "source": 1, "target": "a"}],
    )
    g["nodes"][1]["position"] = {"x": "left"}
    issues = validate_graph(g)
    assert {
        "nodes[0]",
        "nodes[1].position",
        "nodes[2].id",
        "nodes[3].data",
        "edges[0]",
        "edges[1].source",
    } <= set(paths(issues))


def test_every_problem_is_reported_at_once() -> None:
    g = valid_graph()
    g["nodes"][3]["data"]["temperature"] = 3
    g["nodes"].append(node("ghost", "teleporter"))
    g["edges"].append(edge("nowhere", "show"))
    issues = validate_graph(g)
    assert paths(issues) == ["nodes[3].data.temperature", "nodes[6].type", "edges[5].source"]
    assert issues[0].as_dict() == {"path": "nodes[3].data.temperature", "message": "must be at most 2"}


def test_duplicate_node_and_edge_ids() -> None:
    g = graph([node("a", "text"), node("a", "text"), node("d", "debug")], [edge("a", "d")])
    g["edges"].append({**g["edges"][0], "target": "d"})
    issues = validate_graph(g)
    assert messages_at(issues, "nodes[1].id") == ["duplicate id 'a' (also nodes[0])"]
    assert messages_at(issues, "edges[1].id") == [f"duplicate id {g['edges'][0]['id']!r} (also edges[0])"]


def test_unknown_kind() -> None:
    assert messages_at(validate_graph(graph([node("a", "teleporter")])), "nodes[0].type") == [
        "unknown node type 'teleporter'"
    ]


def test_edges_to_missing_nodes() -> None:
    issues = validate_graph(graph([node("a", "text")], [edge("a", "zed"), edge("ghost", "a")]))
    assert messages_at(issues, "edges[0].target") == ["no node with id 'zed'"]
    assert messages_at(issues, "edges[1].source") == ["no node with id 'ghost'"]


def test_edges_to_missing_ports() -> None:
    g = graph(
        [node("t", "text"), node("l", "llm"), node("p", "prompt", template="{{a}}")],
        [edge("t", "l", "words", "prompt"), edge("t", "l", "text", "temperature"), edge("t", "p", None, "b")],
    )
    issues = validate_graph(g)
    assert messages_at(issues, "edges[0].sourceHandle") == ["no output port named 'words' (ports: text)"]
    assert messages_at(issues, "edges[1].targetHandle") == [
        "no input port named 'temperature' (ports: prompt, system, images)"
    ]
    assert messages_at(issues, "edges[2].targetHandle") == ["no input port named 'b' (ports: a)"]


def test_null_handle_needs_a_single_port() -> None:
    g = graph([node("t", "text"), node("l", "llm"), node("x", "text")], [edge("t", "l"), edge("l", "x")])
    issues = validate_graph(g)
    assert messages_at(issues, "edges[0].targetHandle") == [
        "the node has several input ports (prompt, system, images); name one"
    ]
    assert messages_at(issues, "edges[1].targetHandle") == ["the node has no input ports"]


def test_port_type_mismatch() -> None:
    g = graph([node("i", "image", url="https://x/y.png"), node("l", "llm")], [edge("i", "l", None, "prompt")])
    assert messages_at(validate_graph(g), "edges[0]") == [
        "type mismatch: image output 'image' of Image i cannot feed text input 'prompt' of LLM l"
    ]


def test_debug_connects_to_any_type() -> None:
    g = graph(
        [node("i", "image", uploadId="u"), node("d", "debug"), node("v", "vision", prompt="what?")],
        [edge("i", "d"), edge("d", "v", None, "image")],
    )
    assert validate_graph(g) == []


def test_two_edges_into_a_single_edge_port() -> None:
    g = graph(
        [node("a", "text"), node("b", "text"), node("l", "llm")],
        [edge("a", "l", None, "prompt"), edge("b", "l", None, "prompt")],
    )
    assert messages_at(validate_graph(g), "edges[1].targetHandle") == [
        "input 'prompt' of LLM l takes one edge, already has edges[0]"
    ]


def test_many_edges_into_a_multiple_port_are_fine() -> None:
    g = graph(
        [
            node("p", "text"),
            node("i1", "image", uploadId="1"),
            node("i2", "image", uploadId="2"),
            node("l", "llm"),
        ],
        [edge("p", "l", None, "prompt"), edge("i1", "l", None, "images"), edge("i2", "l", None, "images")],
    )
    assert validate_graph(g) == []


def test_missing_required_inputs() -> None:
    g = graph([node("l", "llm"), node("v", "vision"), node("p", "prompt", template="{{who}} and {{what}}")])
    issues = validate_graph(g)
    assert messages_at(issues, "nodes[0]") == ["required input 'prompt' has no incoming edge"]
    assert messages_at(issues, "nodes[1]") == ["required input 'image' has no incoming edge"]
    assert messages_at(issues, "nodes[2]") == [
        "required input 'who' has no incoming edge",
        "required input 'what' has no incoming edge",
    ]


def test_a_draft_may_lack_inputs_and_settings_but_not_structure() -> None:
    unfinished = graph([node("l", "llm"), node("i", "image"), node("p", "prompt", template="{{who}}")])
    broken = graph(
        [node("l", "llm", temperature=9), node("t", "text", text="x")],
        [edge("t", "l", None, "nowhere"), edge("l", "l", None, "prompt")],
    )

    assert validate_graph(unfinished, complete=False) == []
    assert validate_graph(unfinished) != []
    draft_paths = {issue.path for issue in validate_graph(broken, complete=False)}
    assert {"nodes[0].data.temperature", "edges[0].targetHandle", "edges[1]"} <= draft_paths


def test_unknown_placeholders_in_a_prompt_template() -> None:
    g = graph([node("p", "prompt", template="Hi {{ name }}, {{1st}} and {{}}"), node("n", "text")])
    g["edges"].append(edge("n", "p"))
    assert messages_at(validate_graph(g), "nodes[0].data.template") == [
        "unknown placeholder {{1st}}: names are letters, digits and _, like {{topic}}",
        "unknown placeholder {{}}: names are letters, digits and _, like {{topic}}",
    ]


def test_self_loop() -> None:
    issues = validate_graph(graph([node("d", "debug", label="Inspector")], [edge("d", "d")]))
    assert issues == [ValidationIssue("edges[0]", "self-loop: Inspector is connected to itself")]


def test_cycle_names_the_nodes_on_it() -> None:
    g = graph(
        [
            node("start", "text"),
            node("a", "debug"),
            node("b", "prompt", template="{{x}} {{y}}", label="Joiner"),
            node("c", "debug"),
        ],
        [edge("start", "b", None, "x"), edge("b", "c"), edge("c", "a"), edge("a", "b", None, "y")],
    )
    assert messages_at(validate_graph(g), "nodes[1]") == ["cycle through Debug a, Joiner, Debug c"]
    with pytest.raises(GraphInvalid) as raised:
        execution_order(g)
    assert raised.value.issues == [ValidationIssue("nodes[1]", "cycle through Debug a, Joiner, Debug c")]


def test_data_schema_types_enums_and_ranges() -> None:
    g = graph(
        [
            node("t", "text", text=5),
            node("l", "llm", temperature=True, maxOutputTokens=0, models="gemini/x"),
            node("v", "vision", maxOutputTokens=1.5, prompt=""),
            node("i", "image"),
            node("j", "image", uploadId="u", url="https://x"),
        ]
    )
    issues = validate_graph(g)
    assert messages_at(issues, "nodes[0].data.text") == ["must be a string"]
    assert messages_at(issues, "nodes[1].data.temperature") == ["must be a number"]
    assert messages_at(issues, "nodes[1].data.maxOutputTokens") == ["must be at least 1"]
    assert messages_at(issues, "nodes[1].data.models") == ["must be a list"]
    assert messages_at(issues, "nodes[2].data.maxOutputTokens") == ["must be an integer"]
    assert messages_at(issues, "nodes[2].data.prompt") == [
        "write a prompt or connect one to the prompt input"
    ]
    assert messages_at(issues, "nodes[3].data.uploadId") == ["choose an uploaded image or give a URL"]
    assert messages_at(issues, "nodes[4].data.url") == ["give either uploadId or url, not both"]


def test_limits_on_nodes_edges_and_text() -> None:
    limits = Limits(max_nodes=3, max_edges=1, max_text_chars=10)
    g = graph(
        [node(f"n{i}", "debug") for i in range(3)] + [node("t", "text", text="x" * 11, note="y" * 11)],
        [edge("n0", "n1"), edge("n1", "n2")],
    )
    issues = validate_graph(g, limits=limits)
    assert messages_at(issues, "nodes") == ["has 4 nodes; the limit is 3"]
    assert messages_at(issues, "edges") == ["has 2 edges; the limit is 1"]
    assert messages_at(issues, "nodes[3].data.text") == ["is 11 characters long; the limit is 10"]
    assert messages_at(issues, "nodes[3].data.note") == ["is 11 characters long; the limit is 10"]
    assert validate_graph(g, limits=Limits()) == []


def test_default_limits() -> None:
    assert Limits() == Limits(max_nodes=500, max_edges=2000, max_text_chars=100_000)
    big = graph([node(f"n{i}", "text") for i in range(501)])
    assert messages_at(validate_graph(big), "nodes") == ["has 501 nodes; the limit is 500"]


def test_ensure_valid_raises_with_all_issues() -> None:
    with pytest.raises(GraphInvalid) as raised:
        ensure_valid(graph([node("a", "nope"), node("a", "text")]))
    assert paths(raised.value.issues) == ["nodes[0].type", "nodes[1].id"]
    assert "(and 1 more)" in str(raised.value)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (["gemini"], "'gemini' is not a model reference: write <connection>/<model>"),
        ([f"c/m{i}" for i in range(9)], "name at most 8 models"),
    ],
)
def test_a_model_chain_names_connection_and_model(models, message) -> None:
    issues = validate_graph(graph([node("l", "llm", models=models)]))

    assert messages_at(issues, "nodes[0].data.models") == [message]
