"""Idempotency-Key: the same request with the same key from the same user within 24 h answers with the first
run; the key reused for a different request is a 422."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from runs.idempotency import IdempotencyKeyReused, request_digest, run_start_idempotent
from runs.models import IdempotencyKey, WorkflowRun
from runs.services import run_create
from tests.factories import UserFactory
from tests.graphs import callable_graph, text_to_debug_graph
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", ["execute", "workflow"])
def test_the_same_key_answers_with_the_first_run(alice, alice_client, bob_client, endpoint):
    workflow = workflow_publish(workflow=workflow_create(owner=alice, name="W", **callable_graph()))
    url, body = (
        ("/api/execute", text_to_debug_graph())
        if endpoint == "execute"
        else (f"/api/workflows/{workflow.pk}/runs", {"inputs": {"topic": "x"}})
    )

    first = alice_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = alice_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    other_key = alice_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="order-43")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["runId"] == first.json()["runId"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert other_key.json()["runId"] != first.json()["runId"]
    assert WorkflowRun.objects.count() == 2


def _published(owner, name: str):
    return workflow_publish(workflow=workflow_create(owner=owner, name=name, **callable_graph()))


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(("other-workflow", {"inputs": {"topic": "y"}}), id="another workflow, other inputs"),
        pytest.param(("other-workflow", {"inputs": {"topic": "x"}}), id="another workflow, same body"),
        pytest.param(("same-workflow", {"inputs": {"topic": "y"}}), id="same workflow, other inputs"),
        pytest.param(("execute", text_to_debug_graph()), id="execute"),
    ],
)
def test_a_key_reused_for_a_different_request_is_a_422_naming_it(alice, alice_client, second):
    w1, w2 = _published(alice, "W1"), _published(alice, "W2")
    first = alice_client.post(
        f"/api/workflows/{w1.pk}/runs", {"inputs": {"topic": "x"}}, format="json", HTTP_IDEMPOTENCY_KEY="K"
    )
    target, body = second
    url = {
        "other-workflow": f"/api/workflows/{w2.pk}/runs",
        "same-workflow": f"/api/workflows/{w1.pk}/runs",
        "execute": "/api/execute",
    }[target]

    reused = alice_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="K")

    assert first.status_code == 202
    assert reused.status_code == 422
    assert "Idempotent-Replayed" not in reused
    error = reused.json()
    assert "'K'" in error["detail"]
    assert error["errors"] == [{"path": "Idempotency-Key", "message": error["detail"]}]
    assert [str(run.pk) for run in WorkflowRun.objects.all()] == [first.json()["runId"]]


def test_a_replay_with_the_body_reformatted_is_the_same_request(alice, alice_client):
    workflow = _published(alice, "W")
    url = f"/api/workflows/{workflow.pk}/runs"
    first = alice_client.post(
        url,
        '{"inputs": {"topic": "x"}, "wait": 0}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="K",
    )
    again = alice_client.post(
        url, '{ "wait":0,"inputs":{"topic":"x"} }', content_type="application/json", HTTP_IDEMPOTENCY_KEY="K"
    )

    assert again.status_code == 202
    assert again.json()["runId"] == first.json()["runId"]
    assert again["Idempotent-Replayed"] == "true"


def test_a_key_stored_without_a_digest_is_not_replayed(alice, alice_client):
    # Keys written before requests were digested: no request can prove it is the same one.
    alice_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyKey.objects.update(request_digest="")

    again = alice_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert again.status_code == 422
    assert WorkflowRun.objects.count() == 1


def test_keys_belong_to_one_user(alice, bob, alice_client, bob_client):
    first = alice_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    bobs = bob_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert bobs.json()["runId"] != first.json()["runId"]
    assert WorkflowRun.objects.get(pk=bobs.json()["runId"]).owner == bob


def test_a_key_older_than_24_hours_starts_a_new_run(alice, alice_client):
    first = alice_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))

    later = alice_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert later.json()["runId"] != first.json()["runId"]
    assert [str(k) for k in IdempotencyKey.objects.values_list("run_id", flat=True)] == [
        later.json()["runId"]
    ]


def test_a_refused_request_does_not_use_up_its_key(alice, alice_client):
    graph = text_to_debug_graph()
    graph["nodes"][0]["data"]["text"] = 12

    refused = alice_client.post("/api/execute", graph, format="json", HTTP_IDEMPOTENCY_KEY="k")
    accepted = alice_client.post(
        "/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert (refused.status_code, accepted.status_code) == (400, 202)


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there"])
def test_a_malformed_key_is_a_400(alice_client, key):
    response = alice_client.post(
        "/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
    assert not WorkflowRun.objects.exists()


def _start_concurrently(
    owner, key: str, digests: list[str]
) -> tuple[list[tuple[str, bool]], list[BaseException]]:
    """run_start_idempotent from one thread per digest, released together."""
    start = threading.Barrier(len(digests))
    answers: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def request(digest: str) -> None:
        try:
            start.wait(timeout=5)
            started = run_start_idempotent(
                owner=owner,
                key=key,
                digest=digest,
                start=lambda: run_create(owner=owner, graph=text_to_debug_graph()),
            )
            answers.append((str(started.run.pk), started.replayed))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(digest,)) for digest in digests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers, errors


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_run():
    assert connection.vendor == "postgresql"
    alice = UserFactory(email="alice@example.com")
    same = request_digest(path="/api/execute", body=text_to_debug_graph())

    answers, errors = _start_concurrently(alice, "same", [same, same])

    assert errors == []
    assert len({run_id for run_id, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False, True]
    assert WorkflowRun.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_different_requests_with_one_key_start_one_run_and_refuse_the_other():
    assert connection.vendor == "postgresql"
    alice = UserFactory(email="alice@example.com")
    digests = [request_digest(path="/api/execute", body={"inputs": {"n": n}}) for n in (1, 2)]

    answers, errors = _start_concurrently(alice, "same", digests)

    assert [replayed for _, replayed in answers] == [False]
    assert [type(error) for error in errors] == [IdempotencyKeyReused]
    assert WorkflowRun.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_purge_runs_drops_expired_keys_only(alice, alice_client, capsys):
    for key in ("old", "fresh"):
        alice_client.post("/api/execute", text_to_debug_graph(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=2))

    call_command("purge_runs", "--older-than", "30d")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert "Deleted 1 expired idempotency key(s)." in capsys.readouterr().out
