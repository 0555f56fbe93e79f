"""Disabled nodes: skipped as `disabled`, with what needs them; a Merge routes around them."""

from __future__ import annotations

from typing import Any

from engine import ExecutionContext, MemorySink, execute_graph, plan_graph
from engine.keys import content_keys
from engine.reuse import MemoryResultStore, ReuseMode, StoredResult
from engine.validation import Limits, analyse_graph, validate_graph
from tests.engine.helpers import ScriptedLLM
from tests.graphs import edge, graph, node


def fates(outcome: Any) -> dict[str, tuple[str, str | None]]:
    return {node_id: (r.status.value, r.error_kind) for node_id, r in outcome.results.items()}


def two_ways(*, disabled: bool) -> dict[str, list]:
    """Text -> an LLM on each of two ways -> Merge -> Debug; the first way's LLM maybe disabled."""
    return graph(
        [
            node("in", "text", text="hi"),
            node("first", "llm", disabled=disabled),
            node("after-first", "debug"),
            node("second", "llm"),
            node("join", "merge"),
            node("out", "debug"),
        ],
        [
            edge("in", "first", "text", "prompt"),
            edge("in", "second", "text", "prompt"),
            edge("first", "after-first", "text", "value"),
            edge("first", "join", "text", "values"),
            edge("second", "join", "text", "values"),
            edge("join", "out", "value", "value"),
        ],
    )


def test_a_disabled_node_and_what_needs_it_are_skipped_and_a_merge_routes_around_it(
    context: ExecutionContext, llm: ScriptedLLM
) -> None:
    outcome = execute_graph(two_ways(disabled=True), context=context, sink=MemorySink())

    assert outcome.status.value == "succeeded"
    assert fates(outcome) == {
        "in": ("succeeded", None),
        "first": ("skipped", "disabled"),
        "after-first": ("skipped", "disabled"),
        "second": ("succeeded", None),
        "join": ("succeeded", None),
        "out": ("succeeded", None),
    }
    assert outcome.results["first"].error_message == "the node is disabled"
    assert outcome.results["after-first"].error_message == (
        "none of its inputs got a value: upstream node 'LLM first' is disabled"
    )
    assert outcome.results["out"].output == {"value": "llm(hi)"}
    assert [c.prompt for c in llm.calls] == ["hi"]  # only the enabled LLM was called


def test_an_enabled_node_runs(context: ExecutionContext, llm: ScriptedLLM) -> None:
    outcome = execute_graph(two_ways(disabled=False), context=context, sink=MemorySink())

    assert fates(outcome)["first"] == ("succeeded", None)
    assert len(llm.calls) == 2


def test_a_disabled_node_with_no_inputs_is_skipped(context: ExecutionContext) -> None:
    g = graph([node("in", "text", text="hi", disabled=True), node("out", "debug")], [edge("in", "out")])
    outcome = execute_graph(g, context=context, sink=MemorySink())

    assert fates(outcome) == {"in": ("skipped", "disabled"), "out": ("skipped", "disabled")}


def test_disabling_does_not_change_content_keys() -> None:
    def keys(g: dict[str, Any]) -> dict[str, str | None]:
        issues, parsed = analyse_graph(g, limits=Limits())
        assert issues == []
        return {n: k.key for n, k in content_keys(parsed).items()}

    assert keys(two_ways(disabled=True)) == keys(two_ways(disabled=False))


def test_neither_a_disabled_node_nor_what_needs_it_reuses_an_earlier_result(
    context: ExecutionContext,
) -> None:
    g = graph([node("in", "text", text="hi", disabled=True), node("out", "debug")], [edge("in", "out")])
    issues, parsed = analyse_graph(g, limits=Limits())
    assert issues == []
    key = content_keys(parsed)["in"].key
    assert key is not None
    store = MemoryResultStore(
        {key: StoredResult(output={"text": "hi"}, run_id="r1", result_id=1, trusted=True)}
    )

    outcome = execute_graph(g, context=context, sink=MemorySink(), store=store, reuse=ReuseMode.all)

    assert fates(outcome) == {"in": ("skipped", "disabled"), "out": ("skipped", "disabled")}


def test_disabled_must_be_a_boolean() -> None:
    g = graph([node("in", "text", text="hi", disabled="yes")])
    issues = validate_graph(g, limits=Limits())
    assert [(i.path, i.message) for i in issues] == [("nodes[0].data.disabled", "must be true or false")]


def test_a_plan_does_not_count_a_disabled_llm_as_a_call(context: ExecutionContext) -> None:
    _, enabled_calls = plan_graph(two_ways(disabled=False), context=context)
    _, disabled_calls = plan_graph(two_ways(disabled=True), context=context)

    assert (enabled_calls.total, disabled_calls.total) == (2, 1)
