"""Output amplification (issue 18, point 2): one request must not make a run's output, its stored results,
its run detail or its cached payload grow without bound. The engine-level checks (the Prompt refuses
before rendering, per-node and per-run limits) are in tests/engine/test_output_limits.py."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from runs.cache import run_detail_cache_key
from runs.models import NodeResult, RunStatus
from tests.brokers import drain
from tests.factories import NodeResultFactory, WorkflowRunFactory
from tests.graphs import edge, node

MB = 1_000_000
FAN_OUT = 499
BIG_TEXT = "q" * 90_000


def amplifying_prompt() -> dict[str, list]:
    """The probe as sent: a 10,000-character Text into a Prompt `{{a}}` x 10,000 (a 58 KiB request)."""
    return {
        "nodes": [
            node("text", "text", text="x" * 10_000),
            node("prompt", "prompt", template="{{a}}" * 10_000),
            node("after", "debug"),
        ],
        "edges": [edge("text", "prompt", "text", "a"), edge("prompt", "after", "text", "value")],
    }


@pytest.mark.django_db(transaction=True)
def test_the_amplifying_prompt_fails_with_output_limit_and_stores_nothing_big(alice_client, broker, worker):
    response = alice_client.post("/api/execute", amplifying_prompt(), format="json")
    assert response.status_code == 202
    drain(broker, worker)

    detail = alice_client.get(f"/api/runs/{response.json()['runId']}")

    run = detail.json()
    results = {r["nodeId"]: r for r in run["nodeResults"]}
    assert run["status"] == "failed"
    assert results["prompt"]["errorKind"] == "output_limit"
    assert "100,000,000 bytes" in results["prompt"]["errorMessage"]
    assert results["after"]["status"] == "skipped"
    assert len(detail.content) < MB
    stored = sum(len(json.dumps(r.output or {})) for r in NodeResult.objects.all())
    assert stored < 20_000  # the text's own 10,000 characters


@pytest.mark.django_db(transaction=True)
def test_a_fan_out_of_499_debug_nodes_stores_at_most_the_run_limit(settings, alice_client, broker, worker):
    fan = [node(f"debug-{i}", "debug") for i in range(FAN_OUT)]
    graph = {
        "nodes": [node("text", "text", text=BIG_TEXT), *fan],
        "edges": [edge("text", d["id"], "text", "value") for d in fan],
    }
    response = alice_client.post("/api/execute", graph, format="json")
    assert response.status_code == 202
    drain(broker, worker)

    detail = alice_client.get(f"/api/runs/{response.json()['runId']}")

    results = detail.json()["nodeResults"]
    assert len(results) == FAN_OUT + 1
    assert {r["errorKind"] for r in results if r["status"] == "failed"} == {"output_limit"}
    stored = sum(
        len(json.dumps(r.inputs)) + len(json.dumps(r.output or {})) for r in NodeResult.objects.all()
    )
    assert stored < settings.RUN_MAX_OUTPUT_BYTES + FAN_OUT * 100  # was 91 MB
    assert len(detail.content) < 2 * MB


def fan_out_run(owner):
    """A finished run as the pen test left it: one 90k text and 499 Debug nodes that each got and gave it."""
    run = WorkflowRunFactory(owner=owner, status=RunStatus.SUCCEEDED, completed_at=timezone.now())
    NodeResultFactory(run=run, node_id="text", output={"text": BIG_TEXT})
    NodeResult.objects.bulk_create(
        NodeResult(
            run=run,
            node_id=f"debug-{i}",
            node_type="debug",
            status="succeeded",
            inputs={"value": BIG_TEXT},
            output={"value": BIG_TEXT},
        )
        for i in range(FAN_OUT)
    )
    return run


@pytest.mark.django_db
def test_a_fan_out_run_detail_and_its_cached_payload_are_bounded(settings, alice, alice_client):
    run = fan_out_run(alice)

    response = alice_client.get(f"/api/runs/{run.id}")

    assert response.status_code == 200
    limit = settings.RUN_DETAIL_MAX_OUTPUT_CHARS
    # Inputs and output of 500 nodes, each cut to the limit, plus the keys around them.
    assert len(response.content) < (FAN_OUT + 1) * (2 * limit + 1_000)
    assert len(response.content) < 5 * MB  # it was 91 MB
    debug = response.json()["nodeResults"][1]
    assert debug["output"] == {"value": "q" * (limit - len("value"))}
    assert debug["outputTruncated"] is True
    assert debug["inputsTruncated"] is True
    assert debug["outputBytes"] == len('{"value":""}') + 90_000
    cached = cache.get(run_detail_cache_key(owner_id=alice.pk, run_id=run.id))
    assert len(json.dumps(cached, default=str)) < 5 * MB


@pytest.mark.django_db
def test_small_outputs_are_shown_whole_and_unmarked(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)
    NodeResultFactory(run=run, node_id="t", inputs={}, output={"text": "hello", "items": [1, 2, {"a": None}]})

    result = alice_client.get(f"/api/runs/{run.id}").json()["nodeResults"][0]

    assert result["output"] == {"text": "hello", "items": [1, 2, {"a": None}]}
    assert (result["outputTruncated"], result["inputsTruncated"]) == (False, False)
    assert result["outputBytes"] == len('{"text":"hello","items":[1,2,{"a":null}]}')


@pytest.mark.django_db
def test_the_whole_output_is_a_download_for_its_owner_only(alice, alice_client, bob_client):
    run = fan_out_run(alice)
    url = f"/api/runs/{run.id}/nodes/debug-7/output"

    mine = alice_client.get(url)
    theirs = bob_client.get(url)

    assert mine.status_code == 200
    assert mine.json() == {"value": BIG_TEXT}
    assert mine["Content-Disposition"] == f'attachment; filename="run-{run.id}-debug-7-output.json"'
    assert theirs.status_code == 404
    assert BIG_TEXT[:100].encode() not in theirs.content


@pytest.mark.django_db
def test_a_node_without_output_or_an_unknown_node_is_a_404(alice, alice_client):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.FAILED)
    NodeResultFactory(run=run, node_id="broke", status="failed", output=None, error_kind="output_limit")

    assert alice_client.get(f"/api/runs/{run.id}/nodes/broke/output").status_code == 404
    assert alice_client.get(f"/api/runs/{run.id}/nodes/nobody/output").status_code == 404
