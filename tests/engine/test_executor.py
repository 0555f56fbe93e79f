"""Execution: joins, failure skipping, cancellation, timeouts, scopes, reuse, caps and events."""

from __future__ import annotations

import threading

import pytest

from engine import (
    ExecutionContext,
    GraphInvalid,
    ImageData,
    LogLine,
    MemorySink,
    NodeFinished,
    NodeStarted,
    NodeStatus,
    RunFinished,
    RunOptions,
    RunStarted,
    RunStatus,
    execute_graph,
)
from engine.reuse import MemoryResultStore, StoredResult
from tests.engine.helpers import ScriptedLLM
from tests.graphs import edge, graph, node


def llm_chain(prompt: str, name: str) -> tuple[list[dict], list[dict]]:
    return [node(f"{name}-q", "text", text=prompt), node(name, "llm")], [
        edge(f"{name}-q", name, None, "prompt")
    ]


def diamond(left: str = "sleep:0.2 left", right: str = "sleep:0.05 right") -> dict:
    nodes_l, edges_l = llm_chain(left, "left")
    nodes_r, edges_r = llm_chain(right, "right")
    join = node("join", "prompt", template="{{l}} + {{r}}")
    return graph(
        [*nodes_l, *nodes_r, join, node("out", "debug")],
        [
            *edges_l,
            *edges_r,
            edge("left", "join", None, "l"),
            edge("right", "join", None, "r"),
            edge("join", "out"),
        ],
    )


def statuses(outcome) -> dict[str, str]:
    return {node_id: result.status.value for node_id, result in outcome.results.items()}


def test_diamond_join_runs_once_after_all_branches(context, sink: MemorySink) -> None:
    outcome = execute_graph(diamond(), context=context, sink=sink)
    assert outcome.status is RunStatus.succeeded
    assert outcome.error_summary is None
    assert outcome.results["out"].output == {"value": "llm(sleep:0.2 left) + llm(sleep:0.05 right)"}
    started = [e.node_id for e in sink.of_type(NodeStarted)]
    assert started.count("join") == 1
    finished = [e.result.node_id for e in sink.of_type(NodeFinished)]
    assert finished.index("join") > max(finished.index("left"), finished.index("right"))
    # The branches overlapped: the short one finished while the long one was still running.
    assert finished.index("right") < finished.index("left")


def test_events_come_in_order_from_the_calling_thread(context) -> None:
    threads: set[str] = set()

    class RecordingSink(MemorySink):
        def emit(self, event) -> None:
            threads.add(threading.current_thread().name)
            super().emit(event)

    sink = RecordingSink()
    execute_graph(diamond(), context=context, sink=sink)
    assert threads == {threading.current_thread().name}
    assert isinstance(sink.events[0], RunStarted)
    assert sink.events[0].node_ids == ["left-q", "left", "right-q", "right", "join", "out"]
    assert isinstance(sink.events[-1], RunFinished)
    assert any(isinstance(e, LogLine) and e.node_id == "out" for e in sink.events)


def test_results_record_inputs_output_llm_usage_and_timing(context, sink: MemorySink) -> None:
    outcome = execute_graph(diamond(), context=context, sink=sink)
    left = outcome.results["left"]
    assert left.inputs == {"prompt": "sleep:0.2 left", "images": []}
    assert left.output == {"text": "llm(sleep:0.2 left)"}
    assert (left.provider, left.model, left.attempts, left.input_tokens, left.output_tokens) == (
        "gemini",
        "gemini-2.5-flash",
        1,
        2,
        2,
    )
    assert left.started_at <= left.finished_at
    assert left.duration_ms >= 200  # the scripted call sleeps 0.2 s, and a sleep never ends early
    assert len(left.content_key) == 64
    as_dict = left.as_dict()
    assert as_dict["status"] == "succeeded"
    assert isinstance(as_dict["started_at"], str)


def test_content_key_depends_on_kind_data_and_inputs_only(context, sink: MemorySink) -> None:
    def key(**data) -> str:
        g = graph([node("q", "text", text="hi"), node("l", "llm", **data)], [edge("q", "l", None, "prompt")])
        return execute_graph(g, context=context, sink=sink).results["l"].content_key

    assert key() == key(temperature=0.7) == key(label="Renamed")
    assert key() != key(temperature=0.1)


def test_failure_skips_only_downstream_nodes(context, sink: MemorySink) -> None:
    g = diamond(left="fail now", right="sleep:0.1 right")
    g["nodes"].append(node("solo", "text", text="independent"))
    next(n for n in g["nodes"] if n["id"] == "left")["data"]["label"] = "Left writer"
    outcome = execute_graph(g, context=context, sink=sink)
    assert outcome.status is RunStatus.failed
    assert statuses(outcome) == {
        "left-q": "succeeded",
        "left": "failed",
        "right-q": "succeeded",
        "right": "succeeded",
        "join": "skipped",
        "out": "skipped",
        "solo": "succeeded",
    }
    assert outcome.results["left"].error_kind == "provider_error"
    assert outcome.results["join"].error_kind == "upstream_failed"
    assert outcome.results["join"].output is None
    # People read these: the node's label, not its id.
    assert outcome.results["join"].error_message == "upstream node Left writer failed"
    assert outcome.error_summary == "Left writer failed: gemini rejected the request: HTTP 400"
    assert "join" not in [e.node_id for e in sink.of_type(NodeStarted)]


def test_unexpected_exceptions_become_short_internal_errors(sink: MemorySink) -> None:
    class Broken:
        def read(self, ref):
            raise OSError("disk on fire")

    g = graph(
        [node("i", "image", uploadId="u"), node("q", "text", text="hi"), node("l", "llm")],
        [edge("i", "l", None, "images"), edge("q", "l", None, "prompt")],
    )
    outcome = execute_graph(g, context=ExecutionContext(llm=ScriptedLLM(), images=Broken()), sink=sink)
    result = outcome.results["l"]
    assert (result.error_kind, result.error_message) == (
        "invalid_input",
        "could not read image: disk on fire",
    )
    assert "Traceback" not in result.error_message


def test_missing_llm_client_is_a_configuration_error(sink: MemorySink) -> None:
    g = graph([node("q", "text", text="hi"), node("l", "llm")], [edge("q", "l", None, "prompt")])
    result = execute_graph(g, context=ExecutionContext(), sink=sink).results["l"]
    assert (result.error_kind, result.error_message) == (
        "configuration",
        "no LLM client is configured for this run",
    )


def test_vision_reads_image_bytes_through_the_reader(llm: ScriptedLLM, sink: MemorySink) -> None:
    class Reader:
        def read(self, ref):
            return ImageData(b"png:" + ref["uploadId"].encode(), "image/png")

    g = graph([node("i", "image", uploadId="u7"), node("v", "vision")], [edge("i", "v", None, "image")])
    outcome = execute_graph(g, context=ExecutionContext(llm=llm, images=Reader()), sink=sink)
    assert outcome.results["v"].output == {"text": "llm(Describe this image.)"}
    assert outcome.results["v"].inputs == {"image": {"uploadId": "u7", "url": None}}
    assert llm.calls[0].images == [ImageData(b"png:u7", "image/png")]


def test_concurrency_is_bounded(llm: ScriptedLLM, context, sink: MemorySink) -> None:
    nodes, edges = [], []
    for i in range(6):
        n, e = llm_chain("sleep:0.1 x", f"l{i}")
        nodes += n
        edges += e
    outcome = execute_graph(
        graph(nodes, edges), context=context, sink=sink, options=RunOptions(concurrency=2)
    )
    assert outcome.status is RunStatus.succeeded
    assert llm.most_in_flight == 2  # six calls, two at a time
    assert len(llm.threads) <= 2


def test_node_timeout_fails_the_node_and_abandons_its_thread(
    llm: ScriptedLLM, context, sink: MemorySink
) -> None:
    g = diamond(left="block", right="quick")
    outcome = execute_graph(g, context=context, sink=sink, options=RunOptions(node_timeout_s=0.15))
    assert llm.answered == ["quick"]  # the run ended while the blocked call was still waiting
    left = outcome.results["left"]
    assert (left.status, left.error_kind, left.error_message) == (
        NodeStatus.failed,
        "timeout",
        "timed out after 0.15 s",
    )
    assert outcome.results["right"].status is NodeStatus.succeeded
    assert outcome.results["join"].status is NodeStatus.skipped


def test_run_wall_clock_limit_fails_the_run_and_cancels_unfinished_nodes(context, sink: MemorySink) -> None:
    g = diamond(left="block", right="quick")
    outcome = execute_graph(g, context=context, sink=sink, options=RunOptions(run_timeout_s=0.15))
    assert outcome.status is RunStatus.failed
    assert outcome.error_summary == "run exceeded wall-clock limit of 0.15 s"
    assert statuses(outcome)["left"] == "cancelled"
    assert statuses(outcome)["join"] == "cancelled"
    assert outcome.results["join"].error_kind == "cancelled"


def test_a_cancel_request_stops_the_run_without_waiting_for_the_call_in_flight(
    llm: ScriptedLLM, context, sink: MemorySink
) -> None:
    def should_cancel() -> bool:
        return any(isinstance(e, NodeStarted) and e.node_id == "left" for e in sink.events)

    options = RunOptions(poll_interval_s=0.02)
    outcome = execute_graph(
        diamond(left="block"), context=context, sink=sink, options=options, should_cancel=should_cancel
    )
    assert "block" not in llm.answered
    assert outcome.status is RunStatus.cancelled
    assert outcome.error_summary == "cancelled"
    assert statuses(outcome)["left"] == "cancelled"
    assert statuses(outcome)["out"] == "cancelled"
    assert outcome.results["left"].started_at is not None
    assert isinstance(sink.events[-1], RunFinished)


def stored(outcome) -> MemoryResultStore:
    """The succeeded results of an outcome, as a store a later run can reuse them from."""
    return MemoryResultStore(
        {
            r.content_key: StoredResult(r.output, "earlier", index)
            for index, r in enumerate(outcome.results.values())
            if r.status is NodeStatus.succeeded
        }
    )


def test_a_selected_node_reuses_upstream_results_whose_content_key_matches(
    llm: ScriptedLLM, context, sink
) -> None:
    g = diamond()
    for n in g["nodes"]:
        if n["type"] == "llm":
            n["data"]["temperature"] = 0
    earlier = execute_graph(g, context=context, sink=MemorySink())
    calls = len(llm.calls)

    outcome = execute_graph(g, context=context, sink=sink, targets={"join"}, store=stored(earlier))

    assert len(llm.calls) == calls
    assert list(outcome.results) == ["left", "right", "join"]
    assert outcome.results["left"].status is NodeStatus.reused
    assert outcome.results["left"].reused_from_run == "earlier"
    assert outcome.results["join"].status is NodeStatus.succeeded
    assert outcome.results["join"].output == earlier.results["join"].output
    assert sink.of_type(RunStarted)[0].node_ids == ["left", "right", "join"]


def test_upstream_llm_nodes_above_temperature_zero_run_again(llm: ScriptedLLM, context, sink) -> None:
    earlier = execute_graph(diamond(), context=context, sink=MemorySink())
    llm.calls.clear()

    outcome = execute_graph(diamond(), context=context, sink=sink, targets=["join"], store=stored(earlier))

    assert sorted(c.prompt for c in llm.calls) == ["sleep:0.05 right", "sleep:0.2 left"]
    assert {n: r.status.value for n, r in outcome.results.items()} == {
        "left-q": "reused",
        "left": "succeeded",
        "right-q": "reused",
        "right": "succeeded",
        "join": "succeeded",
    }


def test_unknown_targets_are_rejected(context, sink) -> None:
    with pytest.raises(GraphInvalid) as raised:
        execute_graph(diamond(), context=context, sink=sink, targets=["nope"])
    assert raised.value.issues[0].as_dict() == {"path": "targets", "message": "no node with id 'nope'"}


def test_full_run_resumes_without_rerunning_finished_nodes(llm: ScriptedLLM, context, sink) -> None:
    done = {"left-q": {"text": "sleep:0.2 left"}, "left": {"text": "cached"}}
    outcome = execute_graph(diamond(), context=context, sink=sink, finished_outputs=done)
    assert "left" not in outcome.results
    assert "left" not in [e.node_id for e in sink.of_type(NodeStarted)]
    assert outcome.results["join"].output == {"text": "cached + llm(sleep:0.05 right)"}
    assert [c.prompt for c in llm.calls] == ["sleep:0.05 right"]


def test_invalid_graphs_are_not_run(context, sink) -> None:
    with pytest.raises(GraphInvalid):
        execute_graph(graph([node("l", "llm")]), context=context, sink=sink)
    assert sink.events == []


def test_llm_call_cap_fails_further_llm_nodes(llm: ScriptedLLM, context, sink) -> None:
    outcome = execute_graph(diamond(), context=context, sink=sink, options=RunOptions(max_llm_calls=1))
    assert outcome.status is RunStatus.failed
    assert outcome.error_summary == "LLM call cap of 1 reached"
    assert len(llm.calls) == 1
    capped = [r for r in outcome.results.values() if r.error_kind == "cost_cap"]
    assert [r.node_id for r in capped] == ["right"]


def test_llm_token_cap_counts_what_running_calls_may_use(llm: ScriptedLLM, context, sink) -> None:
    # Each call reserves its prompt estimate (4) plus maxOutputTokens (1024): left holds 1028 of
    # the 1100 while it runs, so right, ready meanwhile, would cross the cap and does not start.
    outcome = execute_graph(diamond(), context=context, sink=sink, options=RunOptions(max_llm_tokens=1100))
    assert outcome.error_summary == (
        "LLM token cap of 1100 reached: this call may use 1028 tokens and 72 remain"
    )
    assert outcome.results["right"].error_kind == "cost_cap"
    assert [c.prompt for c in llm.calls] == ["sleep:0.2 left"]


def test_a_finished_call_gives_back_what_it_reserved_but_did_not_use(llm: ScriptedLLM, context, sink) -> None:
    options = RunOptions(concurrency=1, max_llm_tokens=1100)
    outcome = execute_graph(diamond(), context=context, sink=sink, options=options)
    assert outcome.status is RunStatus.succeeded
    assert len(llm.calls) == 2


def test_context_defaults_override_schema_defaults(llm: ScriptedLLM, sink) -> None:
    g = graph([node("q", "text", text="hi"), node("l", "llm")], [edge("q", "l", None, "prompt")])
    execute_graph(g, context=ExecutionContext(llm=llm, defaults={"llm": {"temperature": 0.1}}), sink=sink)
    assert llm.calls[0].temperature == 0.1
    assert llm.calls[0].model is None  # left to the provider configuration


def test_nodes_without_a_label_are_named_by_their_kind_and_number() -> None:
    from engine.graph import display_name

    assert display_name("llm-2", "LLM", {}) == "LLM 2"
    assert display_name("llm-2", "LLM", {"label": "  Writer "}) == "Writer"
    assert display_name("my_node", "Text", {"label": ""}) == "Text my_node"
