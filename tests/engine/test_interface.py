"""Input and Output nodes: the interface derived from them, their validation, and binding a run's values."""

from __future__ import annotations

import pytest

from engine import (
    ExecutionContext,
    MemorySink,
    NodeStatus,
    RunStatus,
    bind_inputs,
    check_input_values,
    execute_graph,
    graph_interface,
    node_kind_catalog,
    validate_graph,
)
from engine.kinds.base import all_kinds
from tests.graphs import edge, graph, node

UPLOAD_ID = "0b6f7c1e-5d1c-4a39-9a7e-3f0d5c2b1a00"


def callable_graph() -> dict:
    """topic (text, required) and style (text, default) -> prompt -> LLM -> Output `answer`."""
    return graph(
        [
            node("topic", "input", name="topic", type="text", description="What to write about"),
            node("style", "input", name="style", type="text", default="plain"),
            node("photo", "input", name="photo", type="image", required=False),
            node("p", "prompt", template="{{topic}} in a {{style}} style"),
            node("l", "llm"),
            node("out", "output", name="answer", description="The text"),
        ],
        [
            edge("topic", "p", "value", "topic"),
            edge("style", "p", "value", "style"),
            edge("p", "l", "text", "prompt"),
            edge("photo", "l", "value", "images"),
            edge("l", "out", "text", "value"),
        ],
    )


def test_the_interface_lists_inputs_and_outputs_in_node_order_with_derived_required() -> None:
    interface = graph_interface(callable_graph()).as_dict()

    assert interface == {
        "inputs": [
            {
                "name": "topic",
                "type": "text",
                "required": True,
                "default": None,
                "description": "What to write about",
            },
            {"name": "style", "type": "text", "required": False, "default": "plain", "description": ""},
            {"name": "photo", "type": "image", "required": False, "default": None, "description": ""},
        ],
        "outputs": [{"name": "answer", "type": "any", "description": "The text"}],
    }


def test_a_draft_interface_skips_bad_names_and_keeps_the_first_of_two_equal_names() -> None:
    draft = graph(
        [
            node("a", "input", name="1st"),
            node("b", "input", name="x"),
            node("c", "input", name="x", type="image"),
        ]
    )

    inputs = graph_interface(draft).inputs

    assert [(spec.name, spec.type, spec.node_id) for spec in inputs] == [("x", "text", "b")]


def test_the_catalog_offers_input_first_and_output_last() -> None:
    catalog = node_kind_catalog()

    assert catalog[0]["type"] == "input"
    assert catalog[-1]["type"] == "output"
    assert catalog[0]["dynamicOutputs"] is True
    assert catalog[-1]["inputs"] == [{"name": "value", "type": "any", "required": True, "multiple": False}]


@pytest.mark.parametrize("name", ["", "has space", "9lives", "naïve", "a" * 65, 12])
def test_input_and_output_names_must_be_identifiers(name: object) -> None:
    for kind in ("input", "output"):
        nodes = [node("n", kind, name=name)]
        edges = []
        if kind == "output":
            nodes.append(node("t", "text", text="x"))
            edges = [edge("t", "n", "text", "value")]

        issues = validate_graph(graph(nodes, edges))

        assert any(issue.path == "nodes[0].data.name" for issue in issues), (kind, issues)


def test_names_are_unique_per_side_but_an_input_and_an_output_may_share_one() -> None:
    doubled = graph(
        [
            node("a", "input", name="topic"),
            node("b", "input", name="topic"),
            node("c", "output", name="topic"),
            node("d", "output", name="topic"),
        ],
        [edge("a", "c", "value", "value"), edge("b", "d", "value", "value")],
    )

    issues = {issue.path: issue.message for issue in validate_graph(doubled)}

    assert issues == {
        "nodes[1].data.name": "input name 'topic' is already used by nodes[0]",
        "nodes[3].data.name": "output name 'topic' is already used by nodes[2]",
    }
    # A draft may hold them while it is being drawn; they are refused when it runs or is published.
    assert validate_graph(doubled, complete=False) == []


def test_an_input_type_must_be_text_or_image_and_its_port_has_that_type() -> None:
    assert [i.path for i in validate_graph(graph([node("a", "input", name="a", type="number")]))] == [
        "nodes[0].data.type"
    ]

    image_into_prompt = graph(
        [node("photo", "input", name="photo", type="image"), node("l", "llm")],
        [edge("photo", "l", "value", "prompt")],
    )
    issues = validate_graph(image_into_prompt)

    assert [issue.path for issue in issues] == ["edges[0]", "nodes[1]"]
    assert "image output 'value' of Input photo cannot feed text input 'prompt'" in issues[0].message


def test_an_output_needs_its_value_connected() -> None:
    issues = validate_graph(graph([node("out", "output", name="answer")]))

    assert [(i.path, i.message) for i in issues] == [
        ("nodes[0]", "required input 'value' has no incoming edge")
    ]


def test_checking_values_reports_unknown_missing_and_wrongly_typed_inputs() -> None:
    interface = graph_interface(callable_graph())

    _, issues = check_input_values(
        interface, {"style": 3, "photo": {"nothing": 1}, "colour": "red"}, max_text_chars=100
    )

    assert issues == [
        ("inputs.style", "must be a string (a text input)"),
        ("inputs.photo", "must be an upload id or an http(s) URL (an image input)"),
        ("inputs.colour", "the workflow has no input named 'colour' (inputs: topic, style, photo)"),
        ("inputs.topic", "is required"),
    ]


def test_checking_values_normalises_images_and_bounds_text() -> None:
    interface = graph_interface(callable_graph())

    values, issues = check_input_values(interface, {"topic": "cats", "photo": UPLOAD_ID}, max_text_chars=100)
    by_url, _ = check_input_values(
        interface, {"topic": "cats", "photo": {"url": "https://example.com/cat.png"}}, max_text_chars=100
    )
    _, too_long = check_input_values(interface, {"topic": "x" * 101}, max_text_chars=100)

    assert issues == []
    assert values == {"topic": "cats", "photo": {"uploadId": UPLOAD_ID, "url": None}}
    assert by_url["photo"] == {"uploadId": None, "url": "https://example.com/cat.png"}
    assert too_long == [("inputs.topic", "is 101 characters long; the limit is 100")]


def test_bound_values_reach_the_nodes_and_defaults_fill_the_rest(context: ExecutionContext) -> None:
    sink = MemorySink()
    bound = bind_inputs(callable_graph(), {"topic": "otters"})

    outcome = execute_graph(bound, context=context, sink=sink)

    assert outcome.status is RunStatus.succeeded
    assert outcome.results["p"].output == {"text": "otters in a plain style"}
    assert outcome.results["photo"].output == {}  # an optional image left empty: nothing to pass on
    assert outcome.results["out"].output == {"value": "llm(otters in a plain style)"}
    # The original graph is untouched: binding works on a copy.
    assert "boundValue" not in callable_graph()["nodes"][0]["data"]


def test_a_bound_value_changes_the_input_node_content_key(context: ExecutionContext) -> None:
    keys = []
    for topic in ("otters", "owls"):
        outcome = execute_graph(
            bind_inputs(callable_graph(), {"topic": topic}), context=context, sink=MemorySink()
        )
        keys.append(outcome.results["topic"].content_key)

    assert keys[0] != keys[1]


def test_an_unbound_required_input_fails_its_node_and_skips_what_depends_on_it(
    context: ExecutionContext,
) -> None:
    outcome = execute_graph(callable_graph(), context=context, sink=MemorySink())

    assert outcome.status is RunStatus.failed
    assert outcome.results["topic"].error_kind == "missing_input"
    assert outcome.results["out"].status is NodeStatus.skipped


def test_an_image_default_becomes_a_reference() -> None:
    g = graph(
        [
            node("photo", "input", name="photo", type="image", default=UPLOAD_ID),
            node("out", "output", name="o"),
        ],
        [edge("photo", "out", "value", "value")],
    )

    outcome = execute_graph(g, context=ExecutionContext(), sink=MemorySink())

    assert outcome.results["out"].output == {"value": {"uploadId": UPLOAD_ID, "url": None}}


class _Digests:
    def digest(self, ref) -> str | None:
        return f"bytes-of-{ref['uploadId']}" if ref.get("uploadId") else None


def test_an_image_input_feeds_its_bytes_digest_for_an_upload_and_nothing_known_for_a_url() -> None:
    kind = next(k for k in all_kinds() if k.type == "input")

    upload = kind.external_digest(
        {"type": "image", "boundValue": {"uploadId": UPLOAD_ID, "url": None}}, _Digests()
    )
    by_default = kind.external_digest({"type": "image", "default": UPLOAD_ID}, _Digests())
    url = kind.external_digest(
        {"type": "image", "boundValue": {"uploadId": None, "url": "https://x/a.png"}}, _Digests()
    )
    text = kind.external_digest({"type": "text", "boundValue": "otters"}, _Digests())

    assert upload == by_default == f"bytes-of-{UPLOAD_ID}"
    assert url == ""  # a URL's bytes may change: what it feeds is never reused
    assert text is None  # a text input is described by its own content key
