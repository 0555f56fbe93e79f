"""run_start, the one way every starter (editor, API, webhook, schedule) starts a run: each refusal once,
at the service, with its code and (for the limits) how long to wait."""

from __future__ import annotations

import pytest

from core.errors import CAP_RETRY_AFTER_SECONDS, RunRefused
from runs.idempotency import IdempotencyKeyInvalid, IdempotencyKeyReused
from runs.models import RunStatus, RunTrigger
from runs.ratelimit import RunRateLimited
from runs.services import RunStillActive, TooManyActiveRuns, run_start
from tests.graphs import callable_graph, llm_callee, text_to_debug_graph
from workflows.selectors import WorkflowNotPublished
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db


def _start(owner, **options):
    return run_start(owner=owner, trigger=RunTrigger.API, graph=text_to_debug_graph(), **options)


def test_a_published_workflow_starts_with_its_inputs_and_a_repeated_key_answers_the_first_run(alice):
    workflow = workflow_publish(workflow=workflow_create(owner=alice, name="W", **callable_graph()))

    first = run_start(
        owner=alice, workflow=workflow, inputs={"topic": "x"}, idempotency_key="k", request_digest="d"
    )
    again = run_start(
        owner=alice, workflow=workflow, inputs={"topic": "x"}, idempotency_key="k", request_digest="d"
    )

    assert (first.replayed, again.replayed, again.run.pk) == (False, True, first.run.pk)
    assert (first.run.workflow_version, first.run.inputs) == (1, {"topic": "x"})


def test_over_the_rate_limit_is_refused_with_how_long_to_wait(settings, alice):
    settings.EXECUTE_RATE_LIMIT = "1/m"
    _start(alice)

    with pytest.raises(RunRateLimited) as refused:
        _start(alice)

    assert (refused.value.code, refused.value.http_status) == ("rate_limited", 429)
    assert 1 <= refused.value.retry_after <= 60


def test_a_full_active_run_cap_is_refused_with_the_caps_retry_after(settings, alice):
    settings.RUN_MAX_ACTIVE_PER_USER = 1
    _start(alice)

    with pytest.raises(TooManyActiveRuns) as refused:
        _start(alice)

    assert (refused.value.code, refused.value.http_status) == ("too_many_active_runs", 429)
    assert refused.value.retry_after == CAP_RETRY_AFTER_SECONDS


def test_an_unpublished_workflow_is_refused(alice):
    workflow = workflow_create(owner=alice, name="Draft", **callable_graph())

    with pytest.raises(WorkflowNotPublished) as refused:
        run_start(owner=alice, workflow=workflow, inputs={"topic": "x"})

    assert (refused.value.code, refused.value.http_status, refused.value.retry_after) == (
        "not_published",
        409,
        None,
    )


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there"])
def test_a_malformed_idempotency_key_is_refused_naming_the_header(alice, key):
    with pytest.raises(IdempotencyKeyInvalid) as refused:
        _start(alice, idempotency_key=key, request_digest="d")

    assert (refused.value.code, refused.value.http_status) == ("idempotency_key_invalid", 400)
    assert [error["path"] for error in refused.value.errors] == ["Idempotency-Key"]


def test_a_key_reused_for_another_request_is_refused(alice):
    _start(alice, idempotency_key="k", request_digest="first")

    with pytest.raises(IdempotencyKeyReused) as refused:
        _start(alice, idempotency_key="k", request_digest="second")

    assert (refused.value.code, refused.value.http_status) == ("idempotency_key_reused", 422)


def test_every_refusal_to_start_is_one_family():
    refusals = [
        RunRateLimited,
        TooManyActiveRuns,
        WorkflowNotPublished,
        IdempotencyKeyInvalid,
        IdempotencyKeyReused,
    ]

    assert all(issubclass(refusal, RunRefused) for refusal in refusals)


def test_resuming_a_run_still_queued_is_refused_with_its_status(alice):
    queued = _start(alice).run

    with pytest.raises(RunStillActive) as refused:
        run_start(owner=alice, again=queued, resume=True)

    assert (refused.value.http_status, refused.value.extra) == (409, {"status": RunStatus.QUEUED})


def test_a_rerun_is_a_new_run_of_the_same_snapshot(alice):
    first = _start(alice).run

    rerun = run_start(owner=alice, again=first).run

    assert (rerun.trigger, rerun.trigger_ref, rerun.nodes) == (RunTrigger.RERUN, str(first.pk), first.nodes)


def test_another_users_workflow_cannot_be_started(alice, bob):
    workflow = workflow_publish(workflow=workflow_create(owner=alice, name="W", **callable_graph()))

    with pytest.raises(ValueError, match="owner"):
        run_start(owner=bob, workflow=workflow, inputs={"topic": "x"})


# What a start costs in statements. Each count includes the workflow's run summary write (4 statements, a
# savepoint around a lock and an UPDATE) and the savepoint of run_create (a test's transaction turns BEGIN
# and COMMIT into these).


def test_executing_a_saved_workflow_reads_it_once_and_counts_the_owners_runs_in_one_query(
    alice, alice_token_client, django_assert_max_num_queries
):
    workflow = workflow_create(owner=alice, name="W", **text_to_debug_graph())
    body = {"workflowId": str(workflow.pk)}
    alice_token_client.post("/api/execute", body, format="json")  # the token is cached from here on

    # workflow, savepoint, owner lock, one count, insert, summary (4), release
    with django_assert_max_num_queries(10):
        response = alice_token_client.post("/api/execute", body, format="json")

    assert response.status_code == 202


def test_running_a_published_workflow_does_not_load_its_owner_again(
    alice, alice_token_client, django_assert_max_num_queries
):
    workflow = workflow_publish(workflow=workflow_create(owner=alice, name="W", **callable_graph()))
    url = f"/api/workflows/{workflow.pk}/runs"
    alice_token_client.post(url, {"inputs": {"topic": "warm"}}, format="json")

    # workflow, published version, then as above less the workflow
    with django_assert_max_num_queries(11):
        response = alice_token_client.post(url, {"inputs": {"topic": "x"}}, format="json")

    assert response.status_code == 202


def test_an_experiments_run_starts_in_nine_statements(alice, django_assert_max_num_queries):
    workflow = workflow_create(owner=alice, name="W", **llm_callee())

    with django_assert_max_num_queries(9):
        started = run_start(
            owner=alice,
            trigger=RunTrigger.EVALUATION,
            trigger_ref="experiment",
            workflow=workflow,
            graph=workflow.graph,
            workflow_version=workflow.version,
            inputs={"item": "x"},
        )

    assert (started.run.status, started.run.inputs) == (RunStatus.QUEUED, {"item": "x"})
