"""GET /metrics: who may scrape, what a known sequence of runs counts, and labels that stay bounded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from runs.driving import run_execute
from runs.metrics import RunStatesCollector
from runs.models import RunStatus, RunTrigger
from runs.services import run_cancel, run_create
from tests.factories import WorkflowFactory
from tests.graphs import edge, node, text_llm_chain, text_to_debug_graph
from tests.runs.helpers import by_key, delta, scrape, value

pytestmark = pytest.mark.django_db

TOKEN = "metrics-secret-token"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_without_a_metrics_token_setting_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
def test_a_missing_or_wrong_token_is_a_401(client, metrics_token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "weft_" not in response.content.decode()


def test_a_signed_in_user_without_the_token_cannot_scrape(alice_client, metrics_token):
    assert alice_client.get("/metrics").status_code == 401


def execute(owner, graph, django_capture_on_commit_callbacks, **options):
    with django_capture_on_commit_callbacks(execute=True):
        run = run_create(owner=owner, graph=graph, enqueue=False, **options)
    return run_execute(run_id=str(run.id))


def failing_graph() -> dict[str, list]:
    """An HTTP Request node to a URL the SSRF guard refuses: the node and the run fail without a network."""
    return {"nodes": [node("h", "http", url="http://127.0.0.1:1/", method="GET")], "edges": []}


def test_a_known_sequence_of_runs_is_counted(
    client, alice, metrics_token, llm_settings, django_capture_on_commit_callbacks
):
    before = by_key(scrape(client, metrics_token))

    for text in ("one", "two"):  # different texts: no node is reused from the other run
        execute(alice, text_to_debug_graph(text), django_capture_on_commit_callbacks)
    llm_run = execute(alice, text_llm_chain(3), django_capture_on_commit_callbacks, trigger=RunTrigger.API)
    failed = execute(alice, failing_graph(), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        queued = run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)
        cancelled = run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)
    run_cancel(run=cancelled)

    after = by_key(scrape(client, metrics_token))
    assert llm_run.status == RunStatus.SUCCEEDED
    assert failed.status == RunStatus.FAILED
    assert delta(before, after, "weft_runs_started_total", trigger="editor") == 5
    assert delta(before, after, "weft_runs_started_total", trigger="api") == 1
    assert delta(before, after, "weft_runs_finished_total", status="succeeded") == 3
    assert delta(before, after, "weft_runs_finished_total", status="failed") == 1
    assert delta(before, after, "weft_runs_finished_total", status="cancelled") == 1
    assert delta(before, after, "weft_run_duration_seconds_count") == 4
    assert delta(before, after, "weft_queue_wait_seconds_count") == 4
    assert delta(before, after, "weft_node_duration_seconds_count", kind="debug") == 2
    assert delta(before, after, "weft_node_duration_seconds_count", kind="llm") == 2
    calls = (
        "weft_llm_calls_total",
        {"provider": "gemini", "model": "gemini-2.5-flash", "outcome": "succeeded"},
    )
    assert delta(before, after, calls[0], **calls[1]) == 2
    # b: "hello" (1 token) -> "echo: hello" (2); c: 2 -> 3 (the fake server echoes).
    tokens = {"provider": "gemini", "model": "gemini-2.5-flash"}
    assert delta(before, after, "weft_llm_tokens_total", direction="input", **tokens) == 3
    assert delta(before, after, "weft_llm_tokens_total", direction="output", **tokens) == 5
    assert delta(before, after, "weft_llm_cost_usd_total", **tokens) > 0
    assert value(after, "weft_queue_depth") == 1  # `queued`, never claimed
    assert value(after, "weft_runs_active") == 0
    assert queued.status == RunStatus.QUEUED


def test_http_requests_are_timed_by_route_template_not_path(client, alice_client, alice, metrics_token):
    run = run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)
    before = by_key(scrape(client, metrics_token))

    alice_client.get(f"/api/runs/{run.id}")
    alice_client.get(f"/api/runs/{run.id}")

    after = by_key(scrape(client, metrics_token))
    labels = {"route": "api/runs/<uuid:run_id>", "method": "GET", "status": "200"}
    assert delta(before, after, "weft_http_request_duration_seconds_count", **labels) == 2


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BOUNDED_LABELS = {
    "trigger",
    "status",
    "kind",
    "provider",
    "model",
    "outcome",
    "direction",
    "route",
    "method",
    "le",
}


def test_no_label_carries_a_user_a_workflow_name_or_a_free_form_value(
    client, alice, alice_client, metrics_token, llm_settings, django_capture_on_commit_callbacks
):
    workflow = WorkflowFactory(owner=alice, name="Alice's secret plan")
    graph = {
        "nodes": [node("a", "text", text="hello"), node("b", "llm", model="mystery-model-of-alice")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run = execute(alice, graph, django_capture_on_commit_callbacks, workflow=workflow)
    alice_client.get(f"/api/runs/{run.id}/nodes/b/output")
    alice_client.get("/no/such/page/of/alice")

    samples = scrape(client, metrics_token)

    assert any(sample.labels.get("model") == "other" for sample in samples)
    for sample in samples:
        assert set(sample.labels) <= BOUNDED_LABELS, sample
        for label_value in sample.labels.values():
            assert not UUID.search(label_value), sample
            assert "alice" not in label_value.lower(), sample
            assert "secret" not in label_value, sample
            assert "mystery" not in label_value, sample


def test_the_dashboard_and_the_alerts_name_only_metrics_that_exist():
    root = Path(__file__).resolve().parents[2] / "docs"
    dashboard = json.loads((root / "grafana-dashboard.json").read_text())
    queries = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    named = set(re.findall(r"weft_[a-z_]+", queries + (root / "operations.md").read_text()))

    # Every metric declared, whether or not it has a sample yet, by its family name.
    families = [*REGISTRY.collect(), *RunStatesCollector().collect()]
    declared = {family.name for family in families if family.name.startswith("weft_")}

    assert {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in named} - declared == set()
    assert declared - {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in named} == set()
