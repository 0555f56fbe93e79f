"""Branches, merges and JSON values: Condition, Merge, Extract, the json port type and its conversions."""

from __future__ import annotations

from typing import Any

import pytest

from engine import ExecutionContext, MemorySink, NodeFinished, NodeStatus, execute_graph, validate_graph
from engine.kinds import condition
from engine.kinds.condition import rule_holds
from engine.ports import convert, types_compatible
from engine.reuse import MemoryResultStore, StoredResult
from tests.engine.helpers import ScriptedLLM
from tests.graphs import edge, graph, node


def fates(outcome: Any) -> dict[str, tuple[str, str | None]]:
    return {node_id: (r.status.value, r.error_kind) for node_id, r in outcome.results.items()}


def branch_graph(text: str) -> dict[str, list]:
    """Text -> Condition (equals "yes") -> an LLM on each branch -> Merge -> Debug."""
    return graph(
        [
            node("in", "text", text=text),
            node("if", "condition", rules=[{"operator": "equals", "value": "yes"}]),
            node("yes", "llm"),
            node("no", "llm"),
            node("after-no", "debug"),
            node("join", "merge"),
            node("out", "debug"),
        ],
        [
            edge("in", "if", "text", "value"),
            edge("if", "yes", "true", "prompt"),
            edge("if", "no", "false", "prompt"),
            edge("no", "after-no", "text", "value"),
            edge("yes", "join", "text", "values"),
            edge("no", "join", "text", "values"),
            edge("join", "out", "value", "value"),
        ],
    )


def test_the_branch_not_taken_is_skipped_and_merge_rejoins(
    context: ExecutionContext, llm: ScriptedLLM
) -> None:
    sink = MemorySink()
    outcome = execute_graph(branch_graph("yes"), context=context, sink=sink)

    assert outcome.status.value == "succeeded"
    assert fates(outcome) == {
        "in": ("succeeded", None),
        "if": ("succeeded", None),
        "yes": ("succeeded", None),
        "no": ("skipped", "branch_not_taken"),
        "after-no": ("skipped", "branch_not_taken"),
        "join": ("succeeded", None),
        "out": ("succeeded", None),
    }
    assert outcome.results["if"].output == {"true": "yes"}
    assert outcome.results["no"].error_message == (
        "required input 'prompt' got no value: output 'false' of 'Condition if' was not taken"
    )
    # Debug's input is optional: it is skipped because none of its inputs got a value.
    assert outcome.results["after-no"].error_message == (
        "none of its inputs got a value: upstream node 'LLM no' was skipped"
    )
    assert outcome.results["out"].output == {"value": "llm(yes)"}
    assert [r.prompt for r in llm.calls] == ["yes"]
    # Every node finishes exactly once.
    finished = [e.result.node_id for e in sink.events if isinstance(e, NodeFinished)]
    assert sorted(finished) == sorted(outcome.results)


def test_the_other_way_round_runs_the_other_branch(context: ExecutionContext) -> None:
    outcome = execute_graph(branch_graph("no thanks"), context=context, sink=MemorySink())

    assert fates(outcome)["yes"] == ("skipped", "branch_not_taken")
    assert fates(outcome)["no"] == ("succeeded", None)
    assert fates(outcome)["after-no"] == ("succeeded", None)
    assert outcome.results["out"].output == {"value": "llm(no thanks)"}


def test_a_failure_skips_as_upstream_failed_even_where_a_branch_was_not_taken(
    context: ExecutionContext,
) -> None:
    g = branch_graph("fail")  # "fail" is not "yes": the false branch runs, and its LLM fails
    outcome = execute_graph(g, context=context, sink=MemorySink())

    assert fates(outcome)["yes"] == ("skipped", "branch_not_taken")
    assert fates(outcome)["no"] == ("failed", "provider_error")
    assert fates(outcome)["join"] == ("skipped", "upstream_failed")
    assert fates(outcome)["out"] == ("skipped", "upstream_failed")
    assert outcome.status.value == "failed"


def test_an_optional_input_on_a_branch_not_taken_is_left_out(
    context: ExecutionContext, llm: ScriptedLLM
) -> None:
    g = graph(
        [
            node("in", "text", text="hello"),
            node("if", "condition", rules=[{"operator": "is_empty"}]),
            node("ask", "llm", systemPrompt="typed"),
        ],
        [
            edge("in", "if", "text", "value"),
            edge("in", "ask", "text", "prompt"),
            edge("if", "ask", "true", "system"),
        ],
    )
    outcome = execute_graph(g, context=context, sink=MemorySink())

    assert outcome.results["ask"].status is NodeStatus.succeeded
    assert "system" not in outcome.results["ask"].inputs
    assert llm.calls[0].system == "typed"


def test_a_crashed_run_resumes_with_a_condition_whose_other_branch_was_not_taken(
    context: ExecutionContext,
) -> None:
    finished = {"in": {"text": "yes"}, "if": {"true": "yes"}}
    outcome = execute_graph(
        branch_graph("yes"), context=context, sink=MemorySink(), finished_outputs=finished
    )

    # The Condition's missing `false` output is a branch not taken, not a reason to run it again.
    assert set(outcome.results) == {"yes", "no", "after-no", "join", "out"}
    assert fates(outcome)["no"] == ("skipped", "branch_not_taken")
    assert outcome.results["out"].output == {"value": "llm(yes)"}


def test_merge_takes_the_first_input_with_a_value_in_edge_order(context: ExecutionContext) -> None:
    g = graph(
        [node("a", "text", text="A"), node("b", "text", text="B"), node("m", "merge")],
        [edge("b", "m", "text", "values"), edge("a", "m", "text", "values")],
    )
    assert execute_graph(g, context=context, sink=MemorySink()).results["m"].output == {"value": "B"}


# Conversions ----------------------------------------------------------------------------------


def test_text_and_json_connect_both_ways_but_image_does_not() -> None:
    assert types_compatible("text", "json")
    assert types_compatible("json", "text")
    assert types_compatible("json", "any")
    assert not types_compatible("image", "json")
    assert convert("hi", "text", "json") == "hi"
    assert convert({"a": [1, "é"]}, "json", "text") == '{"a":[1,"é"]}'
    assert convert("hi", "json", "text") == '"hi"'
    assert convert({"a": 1}, "json", "any") == {"a": 1}


def test_text_reaches_a_json_input_as_a_string_not_parsed(context: ExecutionContext) -> None:
    g = graph(
        [node("t", "text", text='{"a": 1}'), node("x", "extract", path="$")],
        [edge("t", "x", "text", "value")],
    )
    result = execute_graph(g, context=context, sink=MemorySink()).results["x"]

    assert result.inputs == {"value": '{"a": 1}'}
    assert result.output == {"value": '{"a": 1}', "text": '{"a": 1}'}


def test_an_image_cannot_feed_a_json_input() -> None:
    g = graph(
        [node("i", "image", url="https://example.com/a.png"), node("x", "extract")],
        [edge("i", "x", "image", "value")],
    )
    assert (
        "edges[0]",
        "type mismatch: image output 'image' of Image i cannot feed json input 'value' of Extract x",
    ) in issues(g)


# Extract --------------------------------------------------------------------------------------


def extract(value: Any, path: str, context: ExecutionContext) -> Any:
    g = graph(
        [node("d", "debug"), node("x", "extract", path=path)],
        [edge("d", "x", "value", "value")],
    )
    # The Debug node counts as already finished with `value` as its output.
    outcome = execute_graph(g, context=context, sink=MemorySink(), finished_outputs={"d": {"value": value}})
    return outcome.results["x"]


DOC = {"items": [{"name": "a", "n": 1}, {"name": "b", "n": 3}], "title": "T"}


@pytest.mark.parametrize(
    ("path", "value", "text"),
    [
        ("$.title", "T", "T"),
        ("$.items[1].n", 3, "3"),
        ("$.items[0]", {"name": "a", "n": 1}, '{"name":"a","n":1}'),
        ("$.items[*].name", ["a", "b"], '["a","b"]'),
        ("$.items[?@.n > 2].name", ["b"], '["b"]'),
        ("$.nothing[*]", [], "[]"),
    ],
)
def test_extract_picks_one_value_for_a_singular_path_and_a_list_otherwise(
    context: ExecutionContext, path: str, value: Any, text: str
) -> None:
    assert extract(DOC, path, context).output == {"value": value, "text": text}


def test_extract_fails_when_a_singular_path_matches_nothing(context: ExecutionContext) -> None:
    result = extract(DOC, "$.missing", context)
    assert (result.status, result.error_kind) == (NodeStatus.failed, "no_match")
    assert result.error_message == "$.missing matched nothing in the input"


# Condition rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "holds"),
    [
        ({"operator": "equals", "value": "yes"}, "yes", True),
        ({"operator": "equals", "value": "yes"}, "Yes", False),
        ({"operator": "equals", "value": "3"}, 3, True),
        ({"operator": "equals", "value": 3}, 3.0, True),
        ({"operator": "equals", "value": "true"}, True, True),
        ({"operator": "equals", "value": "bug", "path": "$.category"}, {"category": "bug"}, True),
        ({"operator": "equals", "value": "bug", "negate": True}, "bug", False),
        ({"operator": "contains", "value": "ell"}, "hello", True),
        ({"operator": "contains", "value": "b"}, ["a", "b"], True),
        ({"operator": "contains", "value": "c"}, ["a", "b"], False),
        ({"operator": "contains", "value": "k"}, {"k": 1}, True),
        ({"operator": "matches", "value": r"^\d{3}-\d{4}$"}, "555-1234", True),
        ({"operator": "matches", "value": r"^\d+$"}, "12a", False),
        ({"operator": "is_empty"}, "  \n", True),
        ({"operator": "is_empty"}, [], True),
        ({"operator": "is_empty"}, {}, True),
        ({"operator": "is_empty"}, None, True),
        ({"operator": "is_empty"}, "x", False),
        ({"operator": "is_empty", "path": "$.missing"}, {"a": 1}, True),
        ({"operator": "equals", "value": "x", "path": "$.missing"}, {"a": 1}, False),
        ({"operator": "greater_than", "value": 2}, 3, True),
        ({"operator": "greater_than", "value": 2}, " 2.5 ", True),
        ({"operator": "greater_than", "value": 2}, 2, False),
        ({"operator": "at_least", "value": 2}, 2, True),
        ({"operator": "less_than", "value": "10"}, 9, True),
        ({"operator": "at_most", "value": 1}, 1.5, False),
        ({"operator": "less_than", "value": 10}, "many", False),
        ({"operator": "less_than", "value": 10}, True, False),
        ({"operator": "path_exists", "value": "$.a.b"}, {"a": {"b": None}}, True),
        ({"operator": "path_exists", "value": "$.a.c"}, {"a": {"b": None}}, False),
        ({"operator": "path_exists", "value": "$.a"}, '{"a": 1}', False),  # a string is not parsed
    ],
)
def test_each_rule(rule: dict[str, Any], value: Any, holds: bool) -> None:
    assert rule_holds(rule, value) is holds


@pytest.mark.parametrize(("combine", "route"), [("all", "false"), ("any", "true")])
def test_rules_combine_with_all_or_any(context: ExecutionContext, combine: str, route: str) -> None:
    rules = [{"operator": "contains", "value": "a"}, {"operator": "contains", "value": "z"}]
    g = graph(
        [node("t", "text", text="abc"), node("if", "condition", combine=combine, rules=rules)],
        [edge("t", "if", "text", "value")],
    )
    assert execute_graph(g, context=context, sink=MemorySink()).results["if"].output == {route: "abc"}


def test_a_runaway_regex_fails_the_node_with_a_timeout(
    context: ExecutionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(condition, "REGEX_TIME_LIMIT_S", 0.05)
    g = graph(
        [
            node("t", "text", text="a" * 40 + "b"),
            node("if", "condition", rules=[{"operator": "matches", "value": "(a|aa)+$"}]),
        ],
        [edge("t", "if", "text", "value")],
    )
    result = execute_graph(g, context=context, sink=MemorySink()).results["if"]

    assert (result.status, result.error_kind) == (NodeStatus.failed, "timeout")
    assert result.error_message == "rules[0]: the regular expression ran past 0.05 s"


# Validation -----------------------------------------------------------------------------------


def issues(g: dict[str, list], **kwargs: Any) -> list[tuple[str, str]]:
    return [(i.path, i.message) for i in validate_graph(g, **kwargs)]


def test_condition_rules_are_checked_with_paths() -> None:
    rules = [
        {"operator": "sounds_like", "value": "x"},
        {"operator": "matches", "value": "(unclosed"},
        {"operator": "greater_than", "value": "ten"},
        {"operator": "path_exists", "value": "$.["},
        {"operator": "equals"},
        {"operator": "is_empty", "path": "nope", "negate": "yes", "extra": 1},
        "equals",
    ]
    g = graph([node("t", "text", text="x"), node("if", "condition", rules=rules)], [edge("t", "if")])
    found = dict(issues(g))

    assert found["nodes[1].data.rules[0].operator"].startswith("must be one of equals, contains, matches")
    assert found["nodes[1].data.rules[1].value"].startswith("is not a regular expression")
    assert found["nodes[1].data.rules[2].value"] == "must be a number for greater_than"
    assert found["nodes[1].data.rules[3].value"].startswith("is not a JSONPath")
    assert found["nodes[1].data.rules[4].value"] == "is required by equals"
    assert found["nodes[1].data.rules[5].path"].startswith("is not a JSONPath")
    assert found["nodes[1].data.rules[5].negate"] == "must be true or false"
    assert found["nodes[1].data.rules[5].extra"] == "is not a rule setting (operator, value, path, negate)"
    assert found["nodes[1].data.rules[6]"] == "must be an object with an operator"
    assert len(found) == 9


def test_a_condition_needs_rules_and_combine_is_all_or_any() -> None:
    g = graph(
        [node("t", "text", text="x"), node("if", "condition", combine="most", rules={})], [edge("t", "if")]
    )
    assert issues(g) == [
        ("nodes[1].data.combine", "must be one of 'all', 'any'"),
        ("nodes[1].data.rules", "must be a list"),
        ("nodes[1].data.rules", "must be a list of rules"),
    ]
    g = graph([node("t", "text", text="x"), node("if", "condition")], [edge("t", "if")])
    assert issues(g) == [("nodes[1].data.rules", "add at least one rule")]
    # A draft may still be missing its rules.
    assert issues(g, complete=False) == []


def test_extract_path_merge_inputs_and_json_schema_are_checked() -> None:
    g = graph(
        [
            node("t", "text", text="x"),
            node("x", "extract", path="items[0"),
            node("m", "merge"),
            node("l", "llm", jsonSchema={"type": "objekt"}),
            node("l2", "llm", jsonSchema="{}"),
        ],
        [
            edge("t", "x", "text", "value"),
            edge("t", "l", "text", "prompt"),
            edge("t", "l2", "text", "prompt"),
        ],
    )
    found = dict(issues(g))

    assert found["nodes[1].data.path"].startswith("is not a JSONPath")
    assert found["nodes[2]"] == "connect at least one branch to merge"
    assert found["nodes[3].data.jsonSchema"].startswith("is not a valid JSON Schema:")
    assert found["nodes[4].data.jsonSchema"] == "must be an object or null"


def test_the_llm_json_output_needs_a_json_schema() -> None:
    g = graph(
        [node("t", "text", text="x"), node("l", "llm"), node("d", "debug")],
        [edge("t", "l", "text", "prompt"), edge("l", "d", "json", "value")],
    )
    assert issues(g) == [
        ("edges[1].sourceHandle", "output 'json' needs other settings of this node (ports: text)")
    ]
    g["nodes"][1]["data"]["jsonSchema"] = {"type": "object"}
    assert issues(g) == []


def test_a_json_schema_counts_against_the_text_limit() -> None:
    from engine import Limits

    schema = {"type": "object", "description": "x" * 200}
    g = graph(
        [node("t", "text", text="x"), node("l", "llm", jsonSchema=schema)], [edge("t", "l", "text", "prompt")]
    )
    [(path, message)] = issues(g, limits=Limits(max_text_chars=100))
    assert path == "nodes[1].data.jsonSchema"
    assert message.endswith("characters long as JSON; the limit is 100")


def test_jsonpath_regex_functions_are_refused_because_they_have_no_time_limit() -> None:
    g = graph(
        [node("t", "text", text="x"), node("x", "extract", path='$[?match(@.a, "(a|aa)+")]')],
        [edge("t", "x", "text", "value")],
    )
    assert issues(g) == [
        ("nodes[1].data.path", "is not a JSONPath (function 'match' is not defined), e.g. $.items[0].name")
    ]


def test_a_second_run_reuses_the_condition_and_skips_the_same_branch(
    context: ExecutionContext, llm: ScriptedLLM
) -> None:
    g = branch_graph("yes")
    for spec in g["nodes"]:
        if spec["type"] == "llm":
            spec["data"]["temperature"] = 0
    earlier = execute_graph(g, context=context, sink=MemorySink())
    store = MemoryResultStore(
        {
            r.content_key: StoredResult(r.output, "earlier", i)
            for i, r in enumerate(earlier.results.values())
            if r.status is NodeStatus.succeeded
        }
    )
    calls = len(llm.calls)

    outcome = execute_graph(g, context=context, sink=MemorySink(), store=store)

    assert len(llm.calls) == calls
    assert fates(outcome) == {
        "in": ("reused", None),
        "if": ("reused", None),
        "yes": ("reused", None),
        "no": ("skipped", "branch_not_taken"),
        "after-no": ("skipped", "branch_not_taken"),
        "join": ("reused", None),
        "out": ("reused", None),
    }
