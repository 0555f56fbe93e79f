"""run_execute, the actor's body: node results as they happen, final status, scopes, recovery, cancel."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.driving import run_execute
from runs.ending import node_counts
from runs.execution import execution_context
from runs.models import ExecutionLog, NodeResult, RunScope, RunStatus, WorkflowRun
from runs.services import run_create
from runs.tasks import execute_run
from tests.factories import NodeResultFactory, WorkflowFactory, WorkflowRunFactory
from tests.fakes.llm_server import prompt_text
from tests.graphs import edge, node, text_llm_chain, text_to_debug_graph

pytestmark = pytest.mark.django_db


def node_run(owner, workflow, node_id: str) -> WorkflowRun:
    return run_create(
        owner=owner,
        graph=workflow.graph,
        workflow=workflow,
        scope=RunScope.NODE,
        node_ids=[node_id],
        enqueue=False,
    )


def prompts(server) -> list[str]:
    return [prompt_text(r.provider, r.body) for r in server.requests]


def test_a_run_records_every_node_its_logs_counters_and_duration(alice, llm_settings):
    run = run_create(owner=alice, graph=text_llm_chain(3), enqueue=False)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    results = {r.node_id: r for r in NodeResult.objects.filter(run=run)}
    assert set(results) == {"a", "b", "c"}
    assert results["b"].output == {"text": "echo: hello"}
    assert results["c"].output == {"text": "echo: echo: hello"}
    assert results["b"].provider == "gemini"
    assert results["b"].input_tokens == 1
    assert (finished.total_nodes, finished.succeeded_nodes, finished.failed_nodes) == (3, 3, 0)
    assert finished.duration_ms is not None
    assert finished.started_at <= finished.completed_at
    assert prompts(llm_settings) == ["hello", "echo: hello"]


def test_a_failing_node_fails_the_run_and_skips_what_depends_on_it(alice, llm_settings):
    llm_settings.fail_next("gemini", status=400)
    run = run_create(owner=alice, graph=text_llm_chain(3), enqueue=False)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.FAILED
    assert finished.error_summary.startswith("LLM b failed: ")  # the node as people see it
    statuses = dict(NodeResult.objects.filter(run=run).values_list("node_id", "status"))
    assert statuses == {"a": "succeeded", "b": "failed", "c": "skipped"}
    assert (finished.succeeded_nodes, finished.failed_nodes, finished.skipped_nodes) == (1, 1, 1)
    assert ExecutionLog.objects.filter(run=run, level="error", node_id="b").exists()


def test_selection_scope_runs_the_selection_and_what_it_needs_that_no_earlier_run_has(alice, llm_settings):
    workflow = WorkflowFactory(owner=alice, **text_llm_chain(4))
    run = run_create(
        owner=alice,
        graph=workflow.graph,
        workflow=workflow,
        scope=RunScope.SELECTION,
        node_ids=["c", "d"],
        enqueue=False,
    )

    finished = run_execute(run_id=str(run.id))

    # No earlier run: a and b ran too, because c needs b's text.
    assert finished.status == RunStatus.SUCCEEDED
    assert set(NodeResult.objects.filter(run=run).values_list("node_id", flat=True)) == {"a", "b", "c", "d"}
    assert len(prompts(llm_settings)) == 3


def test_a_recovered_run_does_not_execute_nodes_that_already_succeeded(alice, llm_settings, settings):
    settings.RUN_STALE_AFTER_SECONDS = 5
    run = WorkflowRunFactory(
        owner=alice,
        workflow=None,
        **text_llm_chain(3),
        status=RunStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=1),
        heartbeat_at=timezone.now() - timedelta(seconds=30),
    )
    NodeResultFactory(run=run, node_id="a", node_type="text", output={"text": "hello"})
    NodeResultFactory(run=run, node_id="b", node_type="llm", output={"text": "b before the crash"})
    NodeResultFactory(run=run, node_id="c", node_type="llm", status="cancelled", output=None)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert finished.recoveries == 1
    assert prompts(llm_settings) == ["b before the crash"]  # only c ran
    results = dict(NodeResult.objects.filter(run=run).values_list("node_id", "status"))
    assert results == {"a": "succeeded", "b": "succeeded", "c": "succeeded"}
    assert (finished.total_nodes, finished.succeeded_nodes) == (3, 3)


def test_a_run_alive_in_another_worker_is_not_claimed(alice, llm_settings):
    run = WorkflowRunFactory(
        owner=alice, status=RunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )

    assert run_execute(run_id=str(run.id)) is None

    assert not NodeResult.objects.filter(run=run).exists()
    run.refresh_from_db()
    assert (run.status, run.recoveries) == (RunStatus.RUNNING, 0)


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.CANCELLED])
def test_a_finished_or_cancelled_run_is_not_executed_again(alice, status):
    run = WorkflowRunFactory(owner=alice, status=status)

    assert run_execute(run_id=str(run.id)) is None

    assert not NodeResult.objects.filter(run=run).exists()


def test_a_node_that_cannot_reach_its_provider_fails_with_a_clear_message(alice, settings):
    settings.GEMINI_API_KEY = None
    settings.GROQ_API_KEY = None
    graph = {
        "nodes": [node("a", "text", text="hi"), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run = run_create(owner=alice, graph=graph, enqueue=False)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.FAILED
    assert finished.error_summary
    assert WorkflowRun.objects.get(pk=run.pk).completed_at is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_run_rides_out_its_database_connection_being_dropped(alice, llm_settings, settings):
    """What a database restart does to a worker: its connection is terminated mid-run. The run reconnects
    and finishes itself, instead of waiting for the sweeper to notice a stale heartbeat."""
    import threading

    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("terminating a backend is a PostgreSQL operation")
    settings.RUN_HEARTBEAT_SECONDS = 0.1
    llm_settings.latency_s = 0.6
    run = run_create(owner=alice, graph=text_llm_chain(3), enqueue=False)
    connection.ensure_connection()
    worker_backend = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)

    def terminate() -> None:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [worker_backend])

    killer = threading.Timer(0.3, terminate)
    killer.start()
    run_execute(run_id=str(run.id))
    killer.join()

    run.refresh_from_db()
    assert connection.connection.info.backend_pid != worker_backend  # it really reconnected
    assert (run.status, run.recoveries, run.succeeded_nodes) == (RunStatus.SUCCEEDED, 0, 3)


def test_runs_of_one_process_share_the_provider_clients_until_the_provider_settings_change(
    alice, bob, llm_settings, settings
):
    first = execution_context(owner=alice, run_id=uuid.uuid4()).llm
    assert execution_context(owner=bob, run_id=uuid.uuid4()).llm.providers[0] is first.providers[0]
    settings.GROQ_API_KEY = "groq-key"
    changed = execution_context(owner=alice, run_id=uuid.uuid4()).llm
    assert changed.providers[0] is first.providers[0]
    assert [provider.name for provider in changed.providers] == ["gemini", "groq"]
    assert set(changed.connections) == {"gemini", "groq"}


def test_a_long_chain_writes_its_results_in_a_few_batches_each_exactly_once(alice, settings):
    length = 120
    nodes = [node("n0", "text", text="start")]
    nodes += [node(f"n{i}", "prompt", template="{{previous}}!") for i in range(1, length)]
    chain = {"nodes": nodes, "edges": [edge(f"n{i - 1}", f"n{i}") for i in range(1, length)]}
    run = run_create(owner=alice, graph=chain, enqueue=False)

    with CaptureQueriesContext(connection) as captured:
        finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert finished.succeeded_nodes == length
    inserts = [
        q["sql"] for q in captured if q["sql"].startswith("INSERT") and '"runs_noderesult"' in q["sql"][:40]
    ]
    assert 1 <= len(inserts) < length / 4  # batched, not one INSERT per node
    stored = list(NodeResult.objects.filter(run=run).values_list("node_id", flat=True))
    assert sorted(stored) == sorted(n["id"] for n in nodes)
    assert NodeResult.objects.get(run=run, node_id="n3").output == {"text": "start!!!"}


def test_a_small_runs_execution_from_claim_to_end_takes_a_fixed_handful_of_statements(
    alice, django_assert_max_num_queries
):
    flow = text_to_debug_graph()
    workflow = WorkflowFactory(owner=alice, nodes=flow["nodes"], edges=flow["edges"])
    run = run_create(owner=alice, graph=flow, workflow=workflow, enqueue=False)

    # The claim and its read, the workflow shown running, connections, budget, reuse lookup, one batch of
    # results and log, the end, the workflow's last status, the owner's next place (on PostgreSQL the batch
    # also sets its commit asynchronous).
    with django_assert_max_num_queries(21 + (connection.vendor == "postgresql")):
        execute_run.fn(str(run.id))

    run.refresh_from_db()
    workflow.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    stored = node_counts(run)
    assert {field: getattr(run, field) for field in stored} == stored
    assert run.succeeded_nodes == 2
    assert (workflow.run_count, workflow.last_run_status) == (1, RunStatus.SUCCEEDED)


def test_a_runs_final_counters_and_usage_are_those_of_its_stored_results(alice, llm_settings):
    run = run_create(owner=alice, graph=text_llm_chain(3), enqueue=False)

    finished = run_execute(run_id=str(run.id))

    stored = node_counts(finished)
    assert {field: getattr(finished, field) for field in stored} == stored
    assert (finished.succeeded_nodes, finished.input_tokens, finished.output_tokens) == (3, 3, 5)
