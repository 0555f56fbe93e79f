"""The Approval node in the engine: a run with nothing else to do returns `waiting`; executed again with the
decision and what it had finished, it goes on along the chosen branch and runs nothing twice."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Decision, ExecutionContext, MemorySink, RunOutcome, execute_graph
from engine.events import ApprovalRequested
from tests.engine.helpers import ScriptedLLM
from tests.graphs import edge, graph, node


class GivenDecisions:
    def __init__(self, **decisions: Decision) -> None:
        self.decisions = decisions

    def decision(self, node_id: str) -> Decision | None:
        return self.decisions.get(node_id)


def review_flow(on_timeout: str = "reject") -> dict[str, list]:
    """Text -> LLM `draft` -> Approval `review` -> LLM `publish` (approved) / Debug `redo` (rejected);
    beside it, Text -> LLM `side` (a parallel branch that does not need the approval)."""
    return graph(
        [
            node("in", "text", text="write a post"),
            node("draft", "llm"),
            node("review", "approval", instructions="Publish {{subject}}?", onTimeout=on_timeout),
            node("publish", "llm"),
            node("redo", "debug"),
            node("side", "llm"),
        ],
        [
            edge("in", "draft", "text", "prompt"),
            edge("draft", "review", "text", "subject"),
            edge("review", "publish", "approved", "prompt"),
            edge("review", "redo", "rejected", "value"),
            edge("in", "side", "text", "prompt"),
        ],
    )


def finished_outputs(outcome: RunOutcome) -> dict[str, dict[str, Any]]:
    """What the apps hand back when the run is executed again: every settled node's output."""
    return {node_id: r.output or {} for node_id, r in outcome.results.items()}


def test_a_run_waits_once_only_approvals_are_left_and_independent_branches_ran_first(
    context: ExecutionContext, llm: ScriptedLLM
) -> None:
    sink = MemorySink()
    outcome = execute_graph(review_flow(), context=context, sink=sink)

    assert outcome.status.value == "waiting"
    assert set(outcome.results) == {"in", "draft", "side"}  # the approval and what follows it are unsettled
    [request] = sink.of_type(ApprovalRequested)
    assert (request.node_id, request.subject, request.timeout_s) == ("review", "llm(write a post)", 86400.0)
    assert request.instructions == "Publish llm(write a post)?"
    assert outcome.awaiting == [request]
    assert sorted(c.prompt for c in llm.calls) == ["write a post", "write a post"]


@pytest.mark.parametrize(
    ("decision", "on_timeout", "taken", "not_taken"),
    [
        ("approve", "reject", "publish", "redo"),
        ("reject", "reject", "redo", "publish"),
        ("timeout", "reject", "redo", "publish"),
        ("timeout", "approve", "publish", "redo"),
    ],
)
def test_executed_again_with_the_decision_it_goes_on_along_one_branch_and_reruns_nothing(
    llm: ScriptedLLM, decision: str, on_timeout: str, taken: str, not_taken: str
) -> None:
    first = execute_graph(review_flow(on_timeout), context=ExecutionContext(llm=llm), sink=MemorySink())
    calls_before = len(llm.calls)
    decided = GivenDecisions(
        review=Decision(decision, comment="ok", who="alice", when="2026-01-01T00:00:00Z")
    )

    second = execute_graph(
        review_flow(on_timeout),
        context=ExecutionContext(llm=llm, approvals=decided),
        sink=MemorySink(),
        finished_outputs=finished_outputs(first),
    )

    assert second.status.value == "succeeded"
    assert set(second.results) == {"review", "publish", "redo"}  # nothing finished before is run again
    assert second.results[taken].status.value == "succeeded"
    assert (second.results[not_taken].status.value, second.results[not_taken].error_kind) == (
        "skipped",
        "branch_not_taken",
    )
    assert second.results["review"].output["decision"] == {
        "decision": decision,
        "comment": "ok",
        "who": "alice",
        "when": "2026-01-01T00:00:00Z",
    }
    assert len(llm.calls) - calls_before == (1 if taken == "publish" else 0)


def test_a_timeout_with_on_timeout_fail_fails_the_approval(llm: ScriptedLLM) -> None:
    first = execute_graph(review_flow("fail"), context=ExecutionContext(llm=llm), sink=MemorySink())
    decided = GivenDecisions(review=Decision("timeout"))

    second = execute_graph(
        review_flow("fail"),
        context=ExecutionContext(llm=llm, approvals=decided),
        sink=MemorySink(),
        finished_outputs=finished_outputs(first),
    )

    assert second.status.value == "failed"
    assert second.results["review"].error_kind == "approval_timeout"
    assert second.results["publish"].error_kind == "upstream_failed"
