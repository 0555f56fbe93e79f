"""Output limits: a node's output and a run's total output are bounded where they are produced."""

from __future__ import annotations

import tracemalloc

from engine import MemorySink, NodeStatus, RunOptions, RunStatus, execute_graph
from engine.results import json_size
from tests.graphs import edge, graph, node

MIB = 1024 * 1024


def amplifying_prompt(copies: int = 10_000, text_chars: int = 10_000) -> dict:
    """The probe of issue 18: a 10,000-character text into `{{a}}` x 10,000 (a 100 MB rendering)."""
    return graph(
        [
            node("text", "text", text="x" * text_chars),
            node("prompt", "prompt", template="{{a}}" * copies),
            node("after", "debug"),
        ],
        [edge("text", "prompt", None, "a"), edge("prompt", "after")],
    )


def test_a_prompt_that_would_render_past_the_limit_fails_before_rendering(context, sink: MemorySink) -> None:
    tracemalloc.start()
    try:
        outcome = execute_graph(amplifying_prompt(), context=context, sink=sink, options=RunOptions())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    prompt = outcome.results["prompt"]
    assert outcome.status is RunStatus.failed
    assert prompt.status is NodeStatus.failed
    assert prompt.error_kind == "output_limit"
    assert "100,000,000 bytes" in prompt.error_message
    assert prompt.output is None
    assert outcome.results["after"].status is NodeStatus.skipped
    # Rendering would allocate 100 MB (200 MB counting the join); refusing first stays far below.
    assert peak < 20 * MIB


def test_a_prompt_within_the_limit_renders(context, sink: MemorySink) -> None:
    g = amplifying_prompt(copies=10, text_chars=100)

    outcome = execute_graph(g, context=context, sink=sink, options=RunOptions(max_node_output_bytes=2_000))

    assert outcome.status is RunStatus.succeeded
    assert outcome.results["prompt"].output == {"text": "x" * 1_000}


def test_any_node_whose_output_is_over_the_node_limit_fails_with_output_limit(context, sink) -> None:
    g = graph(
        [node("text", "text", text="y" * 5_000), node("echo", "debug"), node("after", "debug")],
        [edge("text", "echo"), edge("echo", "after")],
    )

    outcome = execute_graph(g, context=context, sink=sink, options=RunOptions(max_node_output_bytes=1_000))

    assert outcome.results["text"].error_kind == "output_limit"
    assert "limit for one node is 1,000 bytes" in outcome.results["text"].error_message
    assert outcome.results["echo"].status is NodeStatus.skipped
    assert outcome.results["after"].status is NodeStatus.skipped
    assert outcome.error_summary.startswith("Text text failed: output is 5,011 bytes")


def fan_out(width: int = 50) -> dict:
    fan = [node(f"d{i}", "debug") for i in range(width)]
    return graph([node("text", "text", text="z" * 10_000), *fan], [edge("text", d["id"]) for d in fan])


def stored(outcome) -> int:
    """What the results keep: every node's inputs, and the outputs of those that have one."""
    return sum(
        json_size(r.inputs) + (json_size(r.output) if r.output else 0) for r in outcome.results.values()
    )


def test_a_fan_out_stops_storing_at_the_run_limit(context, sink: MemorySink) -> None:
    options = RunOptions(concurrency=1, max_node_output_bytes=MIB, max_run_output_bytes=100_000)

    outcome = execute_graph(fan_out(), context=context, sink=sink, options=options)

    succeeded = [r.node_id for r in outcome.results.values() if r.status is NodeStatus.succeeded]
    refused = [r for r in outcome.results.values() if r.error_kind == "output_limit"]
    # The text's output is 10,011 bytes; each Debug node stores 10,012 of inputs and 10,012 of output.
    assert succeeded == ["text", "d0", "d1", "d2", "d3"]
    assert len(refused) == 50 - 4
    assert stored(outcome) <= 100_000
    assert refused[0].error_message == (
        "its inputs (10,012 bytes) would take the run's stored output past the run's limit of 100,000 bytes"
    )
    assert refused[0].inputs == {}
    assert outcome.status is RunStatus.failed


def test_concurrent_nodes_never_store_more_than_the_run_limit(context, sink: MemorySink) -> None:
    options = RunOptions(concurrency=8, max_node_output_bytes=None, max_run_output_bytes=100_000)

    outcome = execute_graph(fan_out(), context=context, sink=sink, options=options)

    assert stored(outcome) <= 100_000
    assert outcome.results["text"].status is NodeStatus.succeeded
    assert {r.error_kind for r in outcome.results.values() if r.status is NodeStatus.failed} == {
        "output_limit"
    }


def test_without_limits_outputs_are_not_checked(context, sink: MemorySink) -> None:
    g = amplifying_prompt(copies=100, text_chars=1_000)
    options = RunOptions(max_node_output_bytes=None, max_run_output_bytes=None)

    outcome = execute_graph(g, context=context, sink=sink, options=options)

    assert outcome.status is RunStatus.succeeded
    assert len(outcome.results["prompt"].output["text"]) == 100_000


def test_a_model_answer_over_the_limit_keeps_its_usage(context, sink: MemorySink) -> None:
    g = graph([node("q", "text", text="w " * 40), node("ask", "llm")], [edge("q", "ask", None, "prompt")])

    outcome = execute_graph(g, context=context, sink=sink, options=RunOptions(max_node_output_bytes=93))

    asked = outcome.results["ask"]  # the text's output is 91 bytes, the answer's 96
    assert asked.error_kind == "output_limit"
    assert (asked.provider, asked.input_tokens, asked.output_tokens) == ("gemini", 40, 2)
