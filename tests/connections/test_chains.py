"""Model chains in runs: a user's connection answers, another user's cannot be named, a deleted one fails the
node, old `model`/`fallbackModel` graphs are upgraded on import and by the migration."""

from __future__ import annotations

import json

import pytest
from django.db import connection as db_connection
from django.db.migrations.executor import MigrationExecutor

from runs.driving import run_execute
from runs.models import WorkflowRun
from runs.services import run_create
from tests.connections.helpers import HEADER_SECRET, SECRET, create_on_fake
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import edge, graph, node
from workflows.models import Workflow, WorkflowVersion
from workflows.services import workflow_create


def _asking(*models: str) -> dict:
    return graph(
        [node("q", "text", text="Name an otter"), node("l", "llm", models=list(models))],
        [edge("q", "l", "text", "prompt")],
    )


def _execute(owner, graph_: dict) -> WorkflowRun:
    run = run_create(owner=owner, graph=graph_, enqueue=False)
    return run_execute(run_id=str(run.id))


@pytest.fixture
def allowed(settings, llm_settings: FakeLLMServer) -> FakeLLMServer:
    settings.PROVIDER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    return llm_settings


@pytest.mark.django_db(transaction=True)
def test_a_users_connection_answers_and_no_record_stream_export_or_plan_holds_its_secret(
    alice, alice_client, allowed
):
    create_on_fake(alice_client, allowed)
    workflow = workflow_create(owner=alice, name="Ask", **_asking("mine/fake-chat"))

    run = run_execute(
        run_id=str(run_create(owner=alice, graph=workflow.graph, workflow=workflow, enqueue=False).id)
    )

    result = run.node_results.get(node_id="l")
    assert (run.status, result.output, result.provider, result.model) == (
        "succeeded",
        {"text": "echo: Name an otter"},
        "openai",
        "fake-chat",
    )
    assert [r.provider for r in allowed.requests] == ["openai"]
    stored = json.dumps(
        [list(WorkflowRun.objects.filter(pk=run.pk).values()), list(run.node_results.values())],
        default=str,
    )
    events = alice_client.get(f"/api/runs/{run.pk}/events")
    texts = [
        stored,
        alice_client.get(f"/api/runs/{run.pk}").content.decode(),
        alice_client.get(f"/api/runs/{run.pk}/logs").content.decode(),
        b"".join(events.streaming_content).decode(),
        alice_client.get(f"/api/workflows/{workflow.pk}/export").content.decode(),
        alice_client.post(
            "/api/execute/plan", {"workflowId": str(workflow.pk)}, format="json"
        ).content.decode(),
    ]
    assert "echo: Name an otter" in texts[3]  # the stream carried the answer
    for text in texts:
        assert SECRET not in text
        assert HEADER_SECRET not in text


@pytest.mark.django_db(transaction=True)
def test_the_chain_falls_to_the_next_connection_on_a_retryable_failure(alice, alice_client, allowed):
    create_on_fake(alice_client, allowed)
    allowed.fail_next("openai", status=503)

    run = _execute(alice, _asking("mine/fake-chat", "gemini/gemini-2.5-flash"))

    result = run.node_results.get(node_id="l")
    assert (result.provider, result.model, result.attempts) == ("gemini", "gemini-2.5-flash", 2)


@pytest.mark.django_db
def test_another_users_connection_cannot_be_named_in_a_chain(alice_client, bob, bob_client, allowed):
    create_on_fake(alice_client, allowed)

    response = bob_client.post("/api/execute", {**_asking("mine/fake-chat")}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "nodes[1].data.models[0]", "message": "no connection named 'mine'"}
    ]
    assert allowed.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_deleted_after_the_run_was_accepted_fails_the_node_naming_it(
    alice, alice_client, allowed
):
    created = create_on_fake(alice_client, allowed)
    run = run_create(owner=alice, graph=_asking("mine/fake-chat"), enqueue=False)
    alice_client.delete(f"/api/connections/{created['id']}")

    run = run_execute(run_id=str(run.id))

    result = run.node_results.get(node_id="l")
    assert (result.error_kind, result.error_message) == (
        "connection_missing",
        "no connection named 'mine' (for mine/fake-chat)",
    )


@pytest.mark.django_db
def test_an_old_export_with_model_and_fallback_model_imports_as_a_chain(alice_client):
    old = graph([node("l", "llm", model="gemini-2.5-pro", fallbackModel="llama-3.1-8b-instant")])

    body = alice_client.post("/api/workflows/import", old, format="json").json()

    assert body["nodes"][0]["data"] == {"models": ["gemini/gemini-2.5-pro", "groq/llama-3.1-8b-instant"]}


BEFORE = [("workflows", "0003_workflow_published_version")]
AFTER = [("workflows", "0004_model_chains")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_stored_model_fields_into_chains(alice):
    workflow = workflow_create(owner=alice, name="Old", **graph([node("t", "text", text="x")]))
    old_nodes = [
        node("l", "llm", model="gemini-2.5-pro", temperature=0),
        node("v", "vision", fallbackModel="llava"),
        node("n", "llm"),
    ]
    Workflow.objects.filter(pk=workflow.pk).update(nodes=old_nodes)
    WorkflowVersion.objects.filter(workflow=workflow).update(nodes=old_nodes)
    executor = MigrationExecutor(db_connection)
    executor.migrate(BEFORE)
    try:
        executor.loader.build_graph()
        executor.migrate(AFTER)
    finally:
        MigrationExecutor(db_connection).migrate(MigrationExecutor(db_connection).loader.graph.leaf_nodes())

    for nodes in (
        Workflow.objects.get(pk=workflow.pk).nodes,
        WorkflowVersion.objects.get(workflow=workflow).nodes,
    ):
        assert [n["data"] for n in nodes] == [
            {"temperature": 0, "models": ["gemini/gemini-2.5-pro", "groq/llama-3.3-70b-versatile"]},
            {"models": ["gemini/gemini-2.5-flash", "groq/llava"]},
            {},
        ]
