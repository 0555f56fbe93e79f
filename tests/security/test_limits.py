"""Limits that bound what one user can make the server do: body size, graph size, run wall-clock time,
LLM calls and tokens per run, runs queued or running at once.

Proven elsewhere and not repeated here: the 413 on a JSON body over the limit (tests/test_site.py
::test_bodies_over_the_limit_are_refused_with_413) and on an image over UPLOAD_MAX_BYTES
(tests/uploads/test_api.py::test_a_file_over_the_limit_is_a_413, ::test_a_body_far_over_the_limit_is_refused_
before_parsing); the execute rate limit shared by two server processes on Redis (tests/runs/
test_real_services.py::test_the_execute_rate_limit_is_shared_by_two_server_processes); the active-run
cap on execute (tests/runs/test_api.py::test_too_many_active_runs_is_a_429_with_a_clear_message).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from runs.models import NodeResult, RunStatus, WorkflowRun
from tests.brokers import drain
from tests.factories import WorkflowRunFactory
from tests.graphs import edge, node, text_llm_chain, text_to_debug_graph
from workflows.models import Workflow

# Every JSON write a client can make, with a body it would accept when small.
JSON_WRITES = [
    ("post", "/api/workflows", lambda owned: {"name": "x", **text_to_debug_graph()}),
    ("put", "/api/workflows/{workflow}", lambda owned: {"name": "x", "version": 1, **text_to_debug_graph()}),
    ("post", "/api/workflows/import", lambda owned: {"name": "x", **text_to_debug_graph()}),
    ("post", "/api/execute", lambda owned: text_to_debug_graph()),
    ("post", "/api/tokens", lambda owned: {"name": "x"}),
]


def _url(template: str, owned: Any) -> str:
    return template.format(workflow=owned.workflow.pk, run=owned.run.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "template", "body"), JSON_WRITES, ids=[f"{m} {t}" for m, t, _ in JSON_WRITES]
)
def test_every_json_write_over_the_body_limit_is_a_413(settings, alice_client, owned, method, template, body):
    settings.WEFT_MAX_BODY_BYTES = 2048
    payload = body(owned)
    payload["description"] = "x" * 4096

    response = alice_client.generic(
        method.upper(), _url(template, owned), json.dumps(payload), content_type="application/json"
    )

    assert response.status_code == 413
    assert "limit is 2048 bytes" in response.json()["detail"]
    owned.workflow.refresh_from_db()
    assert owned.workflow.version == 1


def _too_many_nodes() -> dict[str, list]:
    return {"nodes": [node(f"t{i}", "text", text="hi") for i in range(4)], "edges": []}


def _too_many_edges() -> dict[str, list]:
    nodes = [node("t", "text", text="hi"), node("d1", "debug"), node("d2", "debug")]
    return {"nodes": nodes, "edges": [edge("t", "d1", "text", "value"), edge("t", "d2", "text", "value")]}


def _too_much_text() -> dict[str, list]:
    return text_to_debug_graph("x" * 11)


OVERSIZED = [
    (_too_many_nodes, "nodes", "has 4 nodes; the limit is 3"),
    (_too_many_edges, "edges", "has 2 edges; the limit is 1"),
    (_too_much_text, "nodes[0].data.text", "is 11 characters long; the limit is 10"),
]
GRAPH_WRITES = [
    ("post", "/api/workflows", {"name": "big"}),
    ("put", "/api/workflows/{workflow}", {"name": "big", "version": 1}),
    ("post", "/api/workflows/import", {"name": "big"}),
    ("post", "/api/execute", {}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("graph", "path", "message"), OVERSIZED, ids=["nodes", "edges", "text"])
@pytest.mark.parametrize(
    ("method", "template", "extra"), GRAPH_WRITES, ids=[f"{m} {t}" for m, t, _ in GRAPH_WRITES]
)
def test_graphs_over_the_configured_limits_are_a_400_naming_the_limit(
    settings, alice_client, owned, graph, path, message, method, template, extra
):
    settings.GRAPH_MAX_NODES, settings.GRAPH_MAX_EDGES, settings.GRAPH_MAX_TEXT_CHARS = 3, 1, 10

    response = getattr(alice_client, method)(_url(template, owned), {**extra, **graph()}, format="json")

    assert response.status_code == 400
    assert {"path": path, "message": message} in response.json()["errors"]
    assert Workflow.objects.count() == 1
    assert WorkflowRun.objects.count() == 1  # only the fixture's


@pytest.mark.django_db
def test_rerun_counts_against_the_active_run_cap_too(settings, alice, alice_client, owned):
    settings.RUN_MAX_ACTIVE_PER_USER = 2
    WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)  # with owned.run (queued): two active

    response = alice_client.post(f"/api/runs/{owned.run.pk}/rerun")

    assert response.status_code == 429
    assert "2 runs queued or running" in response.json()["detail"]
    assert WorkflowRun.objects.filter(owner=alice).count() == 2


@pytest.mark.django_db
def test_the_active_run_cap_is_per_user(settings, alice, bob_client, owned):
    settings.RUN_MAX_ACTIVE_PER_USER = 1  # alice is at her cap with owned.run

    assert bob_client.post("/api/execute", text_to_debug_graph(), format="json").status_code == 202


# Runs that hit a limit while executing: through the API, a real Dramatiq worker and the fake LLM server.


def _execute_and_wait(client, broker, worker, graph: dict[str, list]) -> dict[str, Any]:
    response = client.post("/api/execute", graph, format="json")
    assert response.status_code == 202
    drain(broker, worker)
    return client.get(f"/api/runs/{response.json()['runId']}").json()


@pytest.mark.django_db(transaction=True)
def test_a_run_over_its_wall_clock_limit_ends_failed_with_the_reason(
    settings, alice_client, broker, worker, llm_settings
):
    settings.RUN_TIMEOUT_SECONDS = 0.5
    llm_settings.latency_s = 60  # the run can only end by giving up on the answer

    run = _execute_and_wait(alice_client, broker, worker, text_llm_chain(2))

    assert run["status"] == "failed"
    assert run["errorSummary"] == "run exceeded wall-clock limit of 0.5 s"
    assert run["completedAt"] is not None
    # It ended before the model answered: the node waiting for the answer was cancelled, and none was sent.
    llm = next(result for result in run["nodeResults"] if result["nodeId"] == "b")
    assert (llm["status"], llm["errorKind"]) == ("cancelled", "cancelled")
    assert llm_settings.chunks_sent == []


@pytest.mark.django_db(transaction=True)
def test_a_run_that_hits_the_llm_call_cap_ends_failed_naming_the_cap(
    settings, alice_client, broker, worker, llm_settings
):
    settings.RUN_MAX_LLM_CALLS = 2

    run = _execute_and_wait(alice_client, broker, worker, text_llm_chain(5))

    assert run["status"] == "failed"
    assert run["errorSummary"] == "LLM call cap of 2 reached"
    assert len(llm_settings.requests) == 2
    statuses = {result["nodeId"]: (result["status"], result["errorKind"]) for result in run["nodeResults"]}
    assert statuses["d"] == ("failed", "cost_cap")
    assert statuses["e"][0] == "skipped"


@pytest.mark.django_db(transaction=True)
def test_a_run_that_hits_the_llm_token_cap_ends_failed_naming_the_cap(
    settings, alice_client, broker, worker, llm_settings
):
    settings.RUN_MAX_LLM_TOKENS = 3

    run = _execute_and_wait(alice_client, broker, worker, text_llm_chain(5))

    assert run["status"] == "failed"
    # Each call reserves its prompt estimate plus maxOutputTokens (1024) first: none fits under 3.
    assert run["errorSummary"] == "LLM token cap of 3 reached: this call may use 1026 tokens and 3 remain"
    spent = sum(
        (result.input_tokens or 0) + (result.output_tokens or 0)
        for result in NodeResult.objects.filter(run_id=run["id"])
    )
    assert spent <= 3
    assert llm_settings.requests == []  # the cap is never crossed, not even by one call
