"""The Sub-workflow and Map kinds in the engine: ports from the resolved callee, validation with and without
one, items, ordering and the concurrency bound, and caps shared between a run and its children.

The child runs are executed by `GraphCaller`, a WorkflowCaller that runs the callee's graph with
`execute_graph` in memory (what the runs app does with the database around it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from engine import (
    ChildOutcome,
    ChildRunsLeft,
    ExecutionContext,
    GraphInvalid,
    LLMCaps,
    MemorySink,
    RunOptions,
    bind_inputs,
    callee_summary,
    execute_graph,
    graph_interface,
    validate_graph,
)
from engine.kinds.base import NodeError
from engine.kinds.subworkflow import map_items
from engine.validation import Limits
from tests.graphs import edge, graph, node
from tests.waiting import wait_for

# A callee: Input `item` -> Prompt "<{{x}}>" -> Output `answer`.
CALLEE = graph(
    [
        node("item", "input", name="item"),
        node("p", "prompt", template="<{{x}}>"),
        node("answer", "output", name="answer"),
    ],
    [edge("item", "p", "value", "x"), edge("p", "answer", "text", "value")],
)


def resolved(g: Mapping[str, Any] = CALLEE) -> dict[str, Any]:
    """`data.callee` as the apps write it for a callee graph."""
    interface = graph_interface(g)
    key, pure = callee_summary(g, defaults=None, digests=None, limits=Limits())
    return {
        "workflowId": "w",
        "version": 1,
        "versionId": 1,
        "name": "Callee",
        "interface": {
            "inputs": [{"name": i.name, "type": i.type, "required": i.required} for i in interface.inputs],
            "outputs": [{"name": o.name} for o in interface.outputs],
        },
        "key": key,
        "pure": pure,
    }


class GraphCaller:
    """Runs the callee graph in memory; records how many children ran at once. With `limit`, it starts at
    most that many children and refuses the calls past them, as the runs app does with RUN_MAX_CHILD_RUNS."""

    def __init__(
        self, callee_graph: Mapping[str, Any], *, delay_s: float = 0.0, limit: int | None = None
    ) -> None:
        self.callee_graph = callee_graph
        self.delay_s = delay_s
        self.limit = limit
        self.running = 0
        self.most = 0
        self.calls: list[int | None] = []
        self._lock = threading.Lock()

    def children_left(self) -> ChildRunsLeft | None:
        if self.limit is None:
            return None
        return ChildRunsLeft(self.limit - len(self.calls), f"at most {self.limit} child runs")

    def call(self, *, node_id, callee, inputs, log, stopped, item=None) -> ChildOutcome:
        if stopped():
            return ChildOutcome("", "cancelled", error="stopped")
        with self._lock:
            if self.limit is not None and len(self.calls) >= self.limit:
                return ChildOutcome("", "refused", error=f"at most {self.limit} child runs")
            self.running += 1
            self.most = max(self.most, self.running)
            self.calls.append(item)
        try:
            # Later items finish sooner: results must still come back in item order.
            time.sleep(self.delay_s * (10 - (item or 0)) / 10)
            if inputs.get("item") == "fail":
                return ChildOutcome(f"child-{item}", "failed", error="told to fail")
            outcome = execute_graph(
                bind_inputs(self.callee_graph, inputs), context=ExecutionContext(), sink=MemorySink()
            )
            answer = outcome.results["answer"].output
            return ChildOutcome(f"child-{item}", "succeeded", {"answer": answer["value"]})
        finally:
            with self._lock:
                self.running -= 1


def mapping(items: str, **data: Any) -> dict[str, list]:
    return graph(
        [
            node("items", "text", text=items),
            node("map", "map", workflowId="w", callee=resolved(), **data),
        ],
        [edge("items", "map", "text", "items")],
    )


def test_a_subworkflow_nodes_ports_follow_its_callee() -> None:
    g = graph(
        [
            node("q", "text", text="otters"),
            node("sub", "subworkflow", workflowId="w", callee=resolved()),
            node("out", "debug"),
        ],
        [
            edge("q", "sub", "text", "item"),
            edge("sub", "out", "answer", "value"),
            edge("sub", "out", "nope", "value"),
        ],
    )

    assert [(i.path, i.message) for i in validate_graph(g)] == [
        ("edges[2].sourceHandle", "no output port named 'nope' (ports: answer)")
    ]


def test_a_caller_node_without_a_resolved_callee_validates_without_crashing() -> None:
    g = graph([node("sub", "subworkflow", workflowId="w"), node("m", "map")])

    assert validate_graph(g, complete=False) == []
    assert [(i.path, i.message) for i in validate_graph(g)] == [
        ("nodes[0].data.workflowId", "the called workflow could not be resolved"),
        ("nodes[1]", "required input 'items' has no incoming edge"),
        ("nodes[1].data.workflowId", "choose the workflow to run"),
    ]


def test_a_subworkflow_node_runs_its_callee_through_the_context() -> None:
    caller = GraphCaller(CALLEE)
    g = graph(
        [node("q", "text", text="otters"), node("sub", "subworkflow", workflowId="w", callee=resolved())],
        [edge("q", "sub", "text", "item")],
    )

    outcome = execute_graph(g, context=ExecutionContext(workflows=caller), sink=MemorySink())

    assert outcome.results["sub"].output == {"answer": "<otters>"}
    assert caller.calls == [None]


def test_without_a_workflow_caller_the_node_fails_with_a_clear_error() -> None:
    g = graph(
        [node("q", "text", text="otters"), node("sub", "subworkflow", workflowId="w", callee=resolved())],
        [edge("q", "sub", "text", "item")],
    )

    outcome = execute_graph(g, context=ExecutionContext(), sink=MemorySink())

    assert (outcome.results["sub"].error_kind, outcome.results["sub"].error_message) == (
        "configuration",
        "this run cannot start child runs",
    )


@pytest.mark.parametrize(("value", "items"), [(["a", 1, None], ["a", 1, None]), ("a\n\n  \nb\n", ["a", "b"])])
def test_map_items_are_a_json_array_or_the_non_blank_lines_of_a_text(value, items) -> None:
    assert map_items(value) == items


def test_map_items_refuse_anything_else() -> None:
    with pytest.raises(NodeError) as refused:
        map_items({"a": 1})
    assert refused.value.kind == "invalid_items"


def test_map_runs_at_most_concurrency_children_at_once_and_keeps_item_order() -> None:
    caller = GraphCaller(CALLEE, delay_s=0.05)

    outcome = execute_graph(
        mapping("\n".join(str(i) for i in range(8)), concurrency=3),
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
    )

    assert outcome.results["map"].output == {
        "results": [{"answer": f"<{i}>"} for i in range(8)],
        "errors": [],
    }
    assert caller.most == 3


def test_map_with_continue_on_error_nulls_a_failed_item_and_lists_it() -> None:
    outcome = execute_graph(
        mapping("a\nfail\nb", continueOnError=True),
        context=ExecutionContext(workflows=GraphCaller(CALLEE)),
        sink=MemorySink(),
    )

    assert outcome.results["map"].output == {
        "results": [{"answer": "<a>"}, None, {"answer": "<b>"}],
        "errors": [{"index": 1, "kind": "child_failed", "message": "told to fail"}],
    }


class CrashingCaller(GraphCaller):
    """Raises for the item "crash", as the runs app's caller does when it cannot record the child run."""

    def call(self, *, node_id, callee, inputs, log, item=None, **rest) -> ChildOutcome:
        if inputs.get("item") == "crash":
            raise ConnectionError("the database connection was lost")
        return super().call(node_id=node_id, callee=callee, inputs=inputs, log=log, item=item, **rest)


@pytest.mark.parametrize("continue_on_error", [False, True])
def test_a_map_item_whose_call_raises_fails_the_map_instead_of_being_left_out(continue_on_error) -> None:
    outcome = execute_graph(
        mapping("a\ncrash\nb", concurrency=1, continueOnError=continue_on_error),
        context=ExecutionContext(workflows=CrashingCaller(CALLEE)),
        sink=MemorySink(),
    )

    result = outcome.results["map"]
    assert result.status == "failed"
    assert "the database connection was lost" in result.error_message


def test_map_without_continue_on_error_fails_on_the_first_failed_item() -> None:
    outcome = execute_graph(
        mapping("a\nfail\nb", concurrency=1),
        context=ExecutionContext(workflows=GraphCaller(CALLEE)),
        sink=MemorySink(),
    )

    result = outcome.results["map"]
    assert (result.error_kind, result.error_message) == (
        "child_failed",
        "item 1: child run child-1 failed: told to fail",
    )


def test_a_pure_callee_has_a_key_and_a_model_above_temperature_zero_makes_it_impure() -> None:
    with_model = graph(
        [node("item", "input", name="item"), node("l", "llm"), node("o", "output", name="o")],
        [edge("item", "l", "value", "prompt"), edge("l", "o", "text", "value")],
    )

    key, pure = callee_summary(CALLEE, defaults=None, digests=None, limits=Limits())
    other_key, other_pure = callee_summary(with_model, defaults=None, digests=None, limits=Limits())

    assert (bool(key), pure) == (True, True)
    assert (bool(other_key), other_pure) == (True, False)
    assert key != other_key


def test_caps_passed_to_several_runs_count_all_their_calls(llm, context) -> None:
    caps = LLMCaps(max_calls=3, max_tokens=None)
    chain = graph(
        [node("a", "text", text="hi"), node("b", "llm"), node("c", "llm")],
        [edge("a", "b", "text", "prompt"), edge("b", "c", "text", "prompt")],
    )

    first = execute_graph(chain, context=context, sink=MemorySink(), caps=caps)
    second = execute_graph(chain, context=context, sink=MemorySink(), caps=caps)

    assert first.status.value == "succeeded"
    assert [second.results[n].status.value for n in "bc"] == ["succeeded", "failed"]
    assert second.results["c"].error_message == "LLM call cap of 3 reached"
    assert len(llm.calls) == 3


def test_a_caller_node_is_bounded_by_the_run_timeout_not_the_node_timeout() -> None:
    caller = GraphCaller(CALLEE, delay_s=0.3)  # item None sleeps 0.3 s
    g = graph(
        [node("q", "text", text="x"), node("sub", "subworkflow", workflowId="w", callee=resolved())],
        [edge("q", "sub", "text", "item")],
    )

    outcome = execute_graph(
        g,
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
        options=RunOptions(node_timeout_s=0.05),
    )

    assert outcome.results["sub"].status.value == "succeeded"


def test_an_edge_into_a_port_the_callee_does_not_have_is_refused() -> None:
    g = graph(
        [node("q", "text", text="x"), node("sub", "subworkflow", workflowId="w", callee=resolved())],
        [edge("q", "sub", "text", "other")],
    )

    with pytest.raises(GraphInvalid) as refused:
        execute_graph(g, context=ExecutionContext(), sink=MemorySink())
    assert refused.value.issues[0].path == "edges[0].targetHandle"


# Limits: the child-run allowance, the output budget, the run's end ------------------------------------


def _map_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("weft-map-")]


def _lines(count: int) -> str:
    return "\n".join(f"item {i}" for i in range(count))


def test_a_map_longer_than_the_child_runs_left_fails_before_starting_any() -> None:
    caller = GraphCaller(CALLEE, limit=20)

    outcome = execute_graph(
        mapping(_lines(2_000), concurrency=16), context=ExecutionContext(workflows=caller), sink=MemorySink()
    )

    result = outcome.results["map"]
    assert (result.status.value, result.error_kind) == ("failed", "child_run_limit")
    assert result.error_message == (
        "the list has 2,000 items but only 20 more child runs may start: at most 20 child runs"
    )
    assert caller.calls == []
    assert _map_threads() == []


def test_with_continue_on_error_the_items_past_the_child_runs_left_are_refused_without_a_call() -> None:
    caller = GraphCaller(CALLEE, limit=20)

    outcome = execute_graph(
        mapping(_lines(2_000), concurrency=16, continueOnError=True),
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
    )

    output = outcome.results["map"].output
    assert sorted(caller.calls) == list(range(20))
    assert output["results"][:20] == [{"answer": f"<item {i}>"} for i in range(20)]
    assert output["results"][20:] == [None] * 1_980
    assert output["errors"] == [
        {"index": i, "kind": "child_run_limit", "message": "at most 20 child runs"} for i in range(20, 2_000)
    ]
    assert _map_threads() == []


def test_a_map_whose_list_of_refused_items_would_not_fit_its_output_fails_at_once() -> None:
    caller = GraphCaller(CALLEE, limit=20)

    outcome = execute_graph(
        mapping(_lines(2_000), concurrency=16, continueOnError=True),
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
        options=RunOptions(max_node_output_bytes=30_000),  # the list of items takes 17,890
    )

    result = outcome.results["map"]
    assert (result.error_kind, caller.calls) == ("output_limit", [])
    assert result.error_message.endswith("this node's output may take at most 30,000 bytes")


def test_a_map_stops_starting_children_once_its_results_are_over_its_output_budget() -> None:
    # Each child answers 1,000 bytes: past 5,000 bytes the Map starts no more of its 100 items.
    amplifier = graph(
        [
            node("item", "input", name="item"),
            node("p", "prompt", template="{{x}}" * 200),
            node("answer", "output", name="answer"),
        ],
        [edge("item", "p", "value", "x"), edge("p", "answer", "text", "value")],
    )
    caller = GraphCaller(amplifier)
    g = mapping("\n".join(["abcde"] * 100), concurrency=2)
    g["nodes"][1]["data"]["callee"] = resolved(amplifier)

    outcome = execute_graph(
        g,
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
        options=RunOptions(max_node_output_bytes=5_000),
    )

    result = outcome.results["map"]
    assert result.error_kind == "output_limit"
    # Five answers (5 x 1,013 bytes) are over 5,000; the other worker may have started a sixth meanwhile.
    assert 5 <= len(caller.calls) <= 6


class StoppableCaller:
    """A child that runs until its caller says stop (as a child run stops with its parent), then reports
    itself cancelled; an item `fail` fails at once."""

    def __init__(self) -> None:
        self.calls: list[int | None] = []
        self.stopped_calls: list[int | None] = []
        self._lock = threading.Lock()

    def children_left(self) -> None:
        return None

    def call(self, *, node_id, callee, inputs, log, stopped, item=None) -> ChildOutcome:
        with self._lock:
            self.calls.append(item)
        if inputs.get("item") == "fail":
            return ChildOutcome(f"child-{item}", "failed", error="told to fail")
        wait_for(stopped, timeout=30)
        with self._lock:
            self.stopped_calls.append(item)
        return ChildOutcome(f"child-{item}", "cancelled")


def test_a_map_whose_run_passes_its_wall_clock_limit_stops_its_children_and_threads() -> None:
    caller = StoppableCaller()

    outcome = execute_graph(
        mapping(_lines(2_000), concurrency=4),
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
        options=RunOptions(run_timeout_s=0.5),
    )

    assert outcome.error_summary == "run exceeded wall-clock limit of 0.5 s"
    wait_for(lambda: not _map_threads(), timeout=5)
    assert sorted(caller.stopped_calls) == sorted(caller.calls) == [0, 1, 2, 3]


def test_a_cancelled_run_stops_its_maps_children_and_threads() -> None:
    caller = StoppableCaller()

    outcome = execute_graph(
        mapping(_lines(2_000), concurrency=4),
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
        should_cancel=lambda: len(caller.calls) == 4,
    )

    assert outcome.status.value == "cancelled"
    wait_for(lambda: not _map_threads(), timeout=5)
    assert sorted(caller.stopped_calls) == sorted(caller.calls) == [0, 1, 2, 3]


def test_a_failed_item_stops_the_maps_running_children_and_stays_the_reason() -> None:
    caller = StoppableCaller()

    outcome = execute_graph(
        mapping("fail\n" + _lines(100), concurrency=4),
        context=ExecutionContext(workflows=caller),
        sink=MemorySink(),
    )

    result = outcome.results["map"]
    assert (result.error_kind, result.error_message) == (
        "child_failed",
        "item 0: child run child-0 failed: told to fail",
    )
    # The items running beside it were told to stop; none started after it.
    assert set(caller.stopped_calls) == set(caller.calls) - {0}
    assert len(caller.calls) <= 4
    assert _map_threads() == []


def test_a_subworkflow_past_the_child_runs_left_fails_with_child_run_limit() -> None:
    g = graph(
        [node("q", "text", text="x"), node("sub", "subworkflow", workflowId="w", callee=resolved())],
        [edge("q", "sub", "text", "item")],
    )

    outcome = execute_graph(
        g, context=ExecutionContext(workflows=GraphCaller(CALLEE, limit=0)), sink=MemorySink()
    )

    result = outcome.results["sub"]
    assert (result.error_kind, result.error_message) == ("child_run_limit", "at most 0 child runs")


def test_two_maps_sharing_the_child_runs_left_start_no_more_than_it_and_list_the_rest_as_refused() -> None:
    caller = GraphCaller(CALLEE, limit=20)
    items = _lines(15)
    g = graph(
        [
            node("items", "text", text=items),
            node("a", "map", workflowId="w", callee=resolved(), concurrency=4, continueOnError=True),
            node("b", "map", workflowId="w", callee=resolved(), concurrency=4, continueOnError=True),
        ],
        [edge("items", "a", "text", "items"), edge("items", "b", "text", "items")],
    )

    outcome = execute_graph(g, context=ExecutionContext(workflows=caller), sink=MemorySink())

    # Whichever Map got them, 20 of the 30 items ran and the other 10 were refused without a child.
    outputs = [outcome.results[m].output for m in "ab"]
    assert len(caller.calls) == 20
    assert sum(r is not None for o in outputs for r in o["results"]) == 20
    refused = [e for o in outputs for e in o["errors"]]
    assert len(refused) == 10
    assert {(e["kind"], e["message"]) for e in refused} == {("child_run_limit", "at most 20 child runs")}
