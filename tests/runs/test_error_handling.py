"""Per-node error handling through the runs app: handled failures and attempts are stored and served, a run
whose every failure was handled succeeds, and the plan says which nodes have handlers."""

from __future__ import annotations

import pytest

from runs.driving import run_execute
from runs.models import NodeResult, RunStatus
from runs.services import run_create
from tests.graphs import edge, graph, node

pytestmark = pytest.mark.django_db


def llm_with_fallback() -> dict[str, list]:
    """Text -> LLM (retried once, then its error branch) -> Debug `answer`; its error port -> `apology`."""
    return graph(
        [
            node("in", "text", text="Name an otter"),
            node("ask", "llm", onError="branch", retry={"maxAttempts": 2, "backoffSeconds": 0}),
            node("answer", "debug"),
            node("apology", "debug"),
        ],
        [
            edge("in", "ask", "text", "prompt"),
            edge("ask", "answer", "text", "value"),
            edge("ask", "apology", "error", "value"),
        ],
    )


def test_a_run_whose_every_failure_was_handled_succeeds_and_serves_the_attempts(
    alice, alice_client, llm_settings
) -> None:
    llm_settings.fail_next("gemini", status=500, times=2)
    run = run_create(owner=alice, graph=llm_with_fallback(), enqueue=False)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert len(llm_settings.requests_for("gemini")) == 2
    ask = NodeResult.objects.get(run=run, node_id="ask")
    assert (ask.status, ask.handled, ask.node_attempts) == ("failed", True, 2)
    assert NodeResult.objects.get(run=run, node_id="answer").error_kind == "branch_not_taken"
    body = alice_client.get(f"/api/runs/{run.id}").json()
    served = next(r for r in body["nodeResults"] if r["nodeId"] == "ask")
    assert (served["handled"], served["nodeAttempts"]) == (True, 2)
    assert [e["attempt"] for e in served["attemptErrors"]] == [1, 2]
    apology = next(r for r in body["nodeResults"] if r["nodeId"] == "apology")
    assert apology["output"]["value"]["kind"] == "provider_error"


def test_an_unhandled_failure_still_fails_the_run(alice, llm_settings) -> None:
    llm_settings.fail_next("gemini", status=500)
    g = llm_with_fallback()
    g["nodes"][1]["data"] = {}
    g["edges"] = g["edges"][:2]
    run = run_create(owner=alice, graph=g, enqueue=False)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.FAILED
    ask = NodeResult.objects.get(run=run, node_id="ask")
    assert (ask.handled, ask.node_attempts) == (False, 1)


def test_the_plan_says_which_nodes_have_handlers(alice_client) -> None:
    response = alice_client.post("/api/execute/plan", llm_with_fallback(), format="json")

    assert response.status_code == 200
    handlers = {n["nodeId"]: n["handler"] for n in response.json()["nodes"]}
    assert handlers == {
        "in": None,
        "ask": {"onError": "branch", "maxAttempts": 2, "timeoutSeconds": None},
        "answer": None,
        "apology": None,
    }
