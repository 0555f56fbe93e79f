"""Per-node error handling: `onError` (fail, continue, branch), `retry` with backoff and `timeoutSeconds`,
on an LLM node answered by the fake server's 500s and on a Prompt node whose output is too large."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine import ExecutionContext, MemorySink, RunOptions, build_llm_client, execute_graph, plan_graph
from engine.keys import content_keys
from engine.validation import Limits, analyse_graph, validate_graph
from tests.engine.helpers import ScriptedLLM, config_for
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import edge, graph, node


def fates(outcome: Any) -> dict[str, tuple[str, str | None]]:
    return {node_id: (r.status.value, r.error_kind) for node_id, r in outcome.results.items()}


def llm_feeding_debug(**handling: Any) -> dict[str, list]:
    """Text -> LLM (with `handling` in its data) -> Debug `after`; the LLM's error port (when it has one)
    -> Debug `on-error`."""
    edges = [edge("in", "ask", "text", "prompt"), edge("ask", "after", "text", "value")]
    nodes = [node("in", "text", text="Name an otter"), node("ask", "llm", **handling), node("after", "debug")]
    if handling.get("onError") == "branch":
        nodes.append(node("on-error", "debug"))
        edges.append(edge("ask", "on-error", "error", "value"))
    return graph(nodes, edges)


@pytest.fixture
def server_context(fake_llm: FakeLLMServer) -> ExecutionContext:
    # One provider attempt per node attempt and no fallback: every failed call is one 500 at the fake.
    config = config_for(fake_llm, max_attempts=1, groq_api_key=None)
    return ExecutionContext(llm=build_llm_client(config))


def gemini_calls(server: FakeLLMServer) -> int:
    return len(server.requests_for("gemini"))


def test_on_error_fail_is_the_default_and_fails_the_run(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500)
    outcome = execute_graph(llm_feeding_debug(), context=server_context, sink=MemorySink())

    assert outcome.status.value == "failed"
    assert fates(outcome)["ask"] == ("failed", "provider_error")
    assert fates(outcome)["after"] == ("skipped", "upstream_failed")
    assert outcome.results["ask"].handled is False


def test_on_error_continue_gives_the_error_value_and_the_run_succeeds(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500)
    graph_ = llm_feeding_debug(onError="continue", errorValue="no otter today")
    outcome = execute_graph(graph_, context=server_context, sink=MemorySink())

    assert outcome.status.value == "succeeded"
    ask = outcome.results["ask"]
    assert (ask.status.value, ask.error_kind, ask.handled) == ("failed", "provider_error", True)
    assert "fake 500" in (ask.error_message or "")
    assert ask.output == {"text": "no otter today"}
    assert outcome.results["after"].output == {"value": "no otter today"}


def test_on_error_continue_defaults_the_error_value_to_null(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500)
    outcome = execute_graph(llm_feeding_debug(onError="continue"), context=server_context, sink=MemorySink())

    assert outcome.status.value == "succeeded"
    assert outcome.results["after"].inputs == {"value": None}


def test_on_error_branch_runs_the_error_port_and_skips_the_normal_outputs(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500)
    outcome = execute_graph(llm_feeding_debug(onError="branch"), context=server_context, sink=MemorySink())

    assert outcome.status.value == "succeeded"
    assert fates(outcome)["ask"] == ("failed", "provider_error")
    assert fates(outcome)["after"] == ("skipped", "branch_not_taken")
    error = outcome.results["on-error"].output["value"]
    assert {k: error[k] for k in ("kind", "attempts", "node")} == {
        "kind": "provider_error",
        "attempts": 1,
        "node": "ask",
    }
    assert "fake 500" in error["message"]


def test_on_error_branch_skips_the_error_port_on_success(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    outcome = execute_graph(llm_feeding_debug(onError="branch"), context=server_context, sink=MemorySink())

    assert outcome.status.value == "succeeded"
    assert fates(outcome)["ask"] == ("succeeded", None)
    assert fates(outcome)["on-error"] == ("skipped", "branch_not_taken")
    assert outcome.results["after"].output == {"value": "echo: Name an otter"}
    assert "error" not in outcome.results["ask"].output


def test_a_merge_after_an_error_branch_takes_whichever_way_ran(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    def with_merge() -> dict[str, list]:
        return graph(
            [
                node("in", "text", text="Name an otter"),
                node("ask", "llm", onError="branch"),
                node("apology", "prompt", template="Sorry: {{problem}}"),
                node("join", "merge"),
                node("out", "debug"),
            ],
            [
                edge("in", "ask", "text", "prompt"),
                edge("ask", "apology", "error", "problem"),
                edge("ask", "join", "text", "values"),
                edge("apology", "join", "text", "values"),
                edge("join", "out", "value", "value"),
            ],
        )

    fake_llm.fail_next("gemini", status=500)
    failed_way = execute_graph(with_merge(), context=server_context, sink=MemorySink())
    succeeded_way = execute_graph(with_merge(), context=server_context, sink=MemorySink())

    assert failed_way.status.value == "succeeded"
    assert failed_way.results["out"].output["value"].startswith('Sorry: {"kind":"provider_error"')
    assert succeeded_way.status.value == "succeeded"
    assert fates(succeeded_way)["apology"] == ("skipped", "branch_not_taken")
    assert succeeded_way.results["out"].output == {"value": "echo: Name an otter"}


def test_retries_wait_their_backoff_and_stop_at_the_first_success(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500, times=2)
    retry = {"maxAttempts": 4, "backoffSeconds": 0.1, "backoffMultiplier": 2}
    started = time.monotonic()
    outcome = execute_graph(llm_feeding_debug(retry=retry), context=server_context, sink=MemorySink())
    elapsed = time.monotonic() - started

    assert outcome.status.value == "succeeded"
    assert gemini_calls(fake_llm) == 3  # two 500s, then the answer; the fourth attempt is not made
    assert elapsed >= 0.1 + 0.2  # the backoffs: 0.1 s, then 0.1 x 2
    ask = outcome.results["ask"]
    assert ask.node_attempts == 3
    assert [(e["attempt"], e["kind"]) for e in ask.attempt_errors] == [
        (1, "provider_error"),
        (2, "provider_error"),
    ]


def test_exhausted_retries_end_in_the_on_error_mode(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500, times=3)
    retry = {"maxAttempts": 3, "backoffSeconds": 0}
    graph_ = llm_feeding_debug(retry=retry, onError="continue", errorValue="fallback")
    outcome = execute_graph(graph_, context=server_context, sink=MemorySink())

    assert gemini_calls(fake_llm) == 3
    assert outcome.status.value == "succeeded"
    ask = outcome.results["ask"]
    assert (ask.handled, ask.node_attempts, len(ask.attempt_errors)) == (True, 3, 3)
    assert outcome.results["after"].output == {"value": "fallback"}


def test_a_node_without_handling_is_tried_once(
    fake_llm: FakeLLMServer, server_context: ExecutionContext
) -> None:
    fake_llm.fail_next("gemini", status=500, times=2)
    outcome = execute_graph(llm_feeding_debug(), context=server_context, sink=MemorySink())

    assert gemini_calls(fake_llm) == 1
    assert (outcome.results["ask"].node_attempts, outcome.results["ask"].attempt_errors) == (1, None)


def prompt_too_large(**handling: Any) -> dict[str, list]:
    """A Prompt that repeats its input past a 600-byte node output limit, feeding a Debug."""
    return graph(
        [
            node("in", "text", text="otters " * 40),
            node("repeat", "prompt", template="{{x}} {{x}} {{x}} {{x}}", **handling),
            node("after", "debug"),
        ]
        + ([node("on-error", "debug")] if handling.get("onError") == "branch" else []),
        [edge("in", "repeat", "text", "x"), edge("repeat", "after", "text", "value")]
        + ([edge("repeat", "on-error", "error", "value")] if handling.get("onError") == "branch" else []),
    )


SMALL_OUTPUTS = RunOptions(max_node_output_bytes=600)


@pytest.mark.parametrize(
    ("handling", "run_status", "after"),
    [
        ({}, "failed", ("skipped", "upstream_failed")),
        ({"onError": "continue", "errorValue": "short"}, "succeeded", ("succeeded", None)),
        ({"onError": "branch"}, "succeeded", ("skipped", "branch_not_taken")),
    ],
)
def test_each_on_error_mode_on_a_failing_prompt(
    context: ExecutionContext, handling: dict[str, Any], run_status: str, after: tuple[str, str | None]
) -> None:
    outcome = execute_graph(
        prompt_too_large(**handling), context=context, sink=MemorySink(), options=SMALL_OUTPUTS
    )

    assert outcome.status.value == run_status
    assert fates(outcome)["repeat"] == ("failed", "output_limit")
    assert outcome.results["repeat"].handled is bool(handling)
    assert fates(outcome)["after"] == after
    if handling.get("onError") == "branch":
        assert outcome.results["on-error"].output["value"]["kind"] == "output_limit"


def test_a_node_timeout_fails_only_that_node_and_can_be_retried(
    context: ExecutionContext, llm: ScriptedLLM
) -> None:
    graph_ = graph(
        [
            node("in", "text", text="block forever"),
            node("ask", "llm", timeoutSeconds=0.2, retry={"maxAttempts": 2}, onError="continue"),
        ],
        [edge("in", "ask", "text", "prompt")],
    )
    outcome = execute_graph(graph_, context=context, sink=MemorySink(), options=RunOptions(node_timeout_s=30))

    ask = outcome.results["ask"]
    assert (ask.status.value, ask.error_kind, ask.handled, ask.node_attempts) == (
        "failed",
        "timeout",
        True,
        2,
    )
    assert ask.error_message == "timed out after 0.2 s"
    assert len(llm.calls) == 2


def test_timeout_seconds_cannot_raise_the_run_s_node_timeout(context: ExecutionContext) -> None:
    graph_ = graph(
        [node("in", "text", text="block forever"), node("ask", "llm", timeoutSeconds=600)],
        [edge("in", "ask", "text", "prompt")],
    )
    outcome = execute_graph(
        graph_, context=context, sink=MemorySink(), options=RunOptions(node_timeout_s=0.2)
    )

    assert outcome.results["ask"].error_message == "timed out after 0.2 s"


def test_the_error_port_exists_only_with_on_error_branch() -> None:
    for on_error, ports in (("branch", ["text", "error"]), ("continue", ["text"]), (None, ["text"])):
        data = {"onError": on_error} if on_error else {}
        _, parsed = analyse_graph(graph([node("ask", "llm", **data)]), limits=Limits())
        assert [p.name for p in parsed.nodes["ask"].outputs] == ports


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"onError": "ignore"}, "nodes[0].data.onError"),
        ({"retry": {"maxAttempts": 11}}, "nodes[0].data.retry.maxAttempts"),
        ({"retry": {"maxAttempts": 0}}, "nodes[0].data.retry.maxAttempts"),
        ({"retry": {"backoffSeconds": -1}}, "nodes[0].data.retry.backoffSeconds"),
        ({"retry": {"tries": 2}}, "nodes[0].data.retry.tries"),
        ({"timeoutSeconds": 0}, "nodes[0].data.timeoutSeconds"),
    ],
)
def test_bad_error_handling_settings_are_refused(data: dict[str, Any], path: str) -> None:
    issues = validate_graph(graph([node("t", "text", text="x", **data)]))
    assert path in [issue.path for issue in issues]


def test_error_handling_is_not_part_of_the_content_key() -> None:
    def key(**data: Any) -> str | None:
        _, parsed = analyse_graph(graph([node("t", "text", text="x", **data)]), limits=Limits())
        return content_keys(parsed)["t"].key

    handled = key(onError="continue", errorValue=1, retry={"maxAttempts": 3}, timeoutSeconds=5)
    assert handled == key()


def test_an_error_handler_does_not_change_the_plan(context: ExecutionContext) -> None:
    plan, calls = plan_graph(llm_feeding_debug(onError="branch"), context=context)
    assert plan.with_fate(plan.nodes["ask"].fate) == ["in", "ask", "after", "on-error"]
    assert calls.total == 1
