"""Webhooks: the secret URL, HMAC signatures, body fields as inputs, limits, rotation, disabling, CRUD."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from runs.models import RunTrigger, WorkflowRun
from triggers.models import Webhook
from triggers.services import webhook_create, webhook_signature
from workflows.services import workflow_unpublish

pytestmark = pytest.mark.django_db


def _hook_path(webhook: Webhook) -> str:
    return f"/hooks/{webhook.token}"


def _call(webhook: Webhook, payload: object, *, signature: str | None = "sign", raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    if signature == "sign":
        headers["HTTP_X_WEFT_SIGNATURE"] = webhook_signature(secret=webhook.signing_secret, body=body)
    elif signature is not None:
        headers["HTTP_X_WEFT_SIGNATURE"] = signature
    return APIClient().generic("POST", _hook_path(webhook), body, content_type="application/json", **headers)


def test_a_signed_call_starts_a_run_of_the_published_version_with_the_body_as_inputs(alice, writer):
    webhook = webhook_create(owner=alice, workflow=writer)

    response = _call(webhook, {"topic": "otters", "action": "opened", "sender": {"login": "x"}})

    assert response.status_code == 202
    run = WorkflowRun.objects.get(pk=response.json()["runId"])
    # Fields that name no input (the rest of a GitHub-style payload) are ignored.
    assert (run.trigger, run.trigger_ref, run.inputs) == (
        RunTrigger.WEBHOOK,
        str(webhook.pk),
        {"topic": "otters"},
    )
    assert (run.owner, run.workflow_id, run.workflow_version) == (alice, writer.pk, 1)
    webhook.refresh_from_db()
    assert webhook.last_called_at is not None


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abc", "wrong-secret"],
)
def test_a_missing_or_wrong_signature_is_a_401(alice, writer, signature):
    webhook = webhook_create(owner=alice, workflow=writer)
    body = json.dumps({"topic": "x"}).encode()
    if signature == "wrong-secret":
        signature = webhook_signature(secret="not-the-secret", body=body)

    response = _call(webhook, None, signature=signature, raw=body)

    assert response.status_code == 401
    assert "X-Weft-Signature" in response.json()["detail"]
    assert not WorkflowRun.objects.exists()


def test_the_signature_covers_the_raw_body(alice, writer):
    webhook = webhook_create(owner=alice, workflow=writer)
    signed_for = json.dumps({"topic": "x"}).encode()

    response = _call(
        webhook,
        None,
        signature=webhook_signature(secret=webhook.signing_secret, body=signed_for),
        raw=json.dumps({"topic": "y"}).encode(),
    )

    assert response.status_code == 401


def test_an_unsigned_webhook_needs_no_signature(alice, writer):
    webhook = webhook_create(owner=alice, workflow=writer, signed=False)

    assert _call(webhook, {"topic": "x"}, signature=None).status_code == 202


def test_unknown_disabled_and_rotated_urls_all_answer_the_same_404(alice, alice_client, writer):
    webhook = webhook_create(owner=alice, workflow=writer)
    old_path = _hook_path(webhook)

    rotated = alice_client.post(f"/api/webhooks/{webhook.pk}/rotate").json()
    after_rotation = APIClient().post(old_path, {"topic": "x"}, format="json")
    unknown = APIClient().post("/hooks/no-such-hook", {"topic": "x"}, format="json")
    webhook.refresh_from_db()
    alice_client.patch(f"/api/webhooks/{webhook.pk}", {"enabled": False}, format="json")
    disabled = _call(webhook, {"topic": "x"})

    assert rotated["url"].endswith(f"/hooks/{webhook.token}")
    assert old_path not in rotated["url"]
    answers = [(r.status_code, r.json()) for r in (after_rotation, unknown, disabled)]
    assert answers == [(404, {"detail": "Not found."})] * 3
    assert not WorkflowRun.objects.exists()


def test_rotation_also_changes_the_signing_secret(alice, alice_client, writer):
    webhook = webhook_create(owner=alice, workflow=writer)
    old_secret = webhook.signing_secret

    body = alice_client.post(f"/api/webhooks/{webhook.pk}/rotate").json()
    webhook.refresh_from_db()

    assert body["signingSecret"] == webhook.signing_secret != old_secret
    payload = json.dumps({"topic": "x"}).encode()
    with_old_secret = webhook_signature(secret=old_secret, body=payload)
    assert _call(webhook, None, signature=with_old_secret, raw=payload).status_code == 401
    assert _call(webhook, {"topic": "x"}).status_code == 202


def test_a_body_over_the_limit_is_a_413(settings, alice, writer):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    webhook = webhook_create(owner=alice, workflow=writer)

    response = _call(webhook, {"topic": "x" * 200})

    assert response.status_code == 413
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_a_400(alice, writer, raw):
    webhook = webhook_create(owner=alice, workflow=writer)

    response = _call(webhook, None, raw=raw)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "body"
    assert error["message"].startswith("The body must be a JSON object")


def test_input_errors_are_a_400_with_paths(alice, writer):
    webhook = webhook_create(owner=alice, workflow=writer)

    response = _call(webhook, {"topic": 5})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "inputs.topic", "message": "must be a string (a text input)"}
    ]


def test_an_unpublished_workflow_is_a_409(alice, writer):
    webhook = webhook_create(owner=alice, workflow=writer)
    workflow_unpublish(workflow=writer)

    response = _call(webhook, {"topic": "x"})

    assert response.status_code == 409
    assert "not published" in response.json()["detail"]


def test_each_webhook_has_its_own_rate_limit(settings, alice, writer):
    settings.WEBHOOK_RATE_LIMIT = "2/m"
    busy, quiet = (webhook_create(owner=alice, workflow=writer) for _ in range(2))

    answers = [_call(busy, {"topic": "x"}) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert _call(quiet, {"topic": "x"}).status_code == 202


def test_calls_with_a_wrong_signature_do_not_use_up_the_webhooks_rate_limit(settings, alice, writer):
    settings.WEBHOOK_RATE_LIMIT = "2/m"
    webhook = webhook_create(owner=alice, workflow=writer)

    forged = [_call(webhook, {"topic": "x"}, signature="sha256=" + "0" * 64) for _ in range(3)]

    assert [a.status_code for a in forged] == [401, 401, 401]
    assert _call(webhook, {"topic": "x"}).status_code == 202


def test_webhook_calls_count_against_the_owners_run_limit(settings, alice, alice_client, writer):
    settings.EXECUTE_RATE_LIMIT = "1/m"
    webhook = webhook_create(owner=alice, workflow=writer)

    assert _call(webhook, {"topic": "x"}).status_code == 202
    assert _call(webhook, {"topic": "x"}).status_code == 429
    assert (
        alice_client.post(
            f"/api/workflows/{writer.pk}/runs", {"inputs": {"topic": "x"}}, format="json"
        ).status_code
        == 429
    )


def test_get_is_not_allowed(alice, writer):
    webhook = webhook_create(owner=alice, workflow=writer)

    assert APIClient().get(_hook_path(webhook)).status_code == 405


# The API ------------------------------------------------------------------------------------


def test_the_owner_creates_lists_renames_and_deletes_webhooks(
    alice_client, writer, django_assert_max_num_queries
):
    created = alice_client.post(f"/api/workflows/{writer.pk}/webhooks", {"name": "GitHub"}, format="json")
    unsigned = alice_client.post(
        f"/api/workflows/{writer.pk}/webhooks", {"signed": False}, format="json"
    ).json()

    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["signed"], body["enabled"]) == ("GitHub", True, True)
    assert len(body["signingSecret"]) == 64
    assert body["url"].startswith("http://testserver/hooks/")
    assert (unsigned["signed"], unsigned["signingSecret"]) == (False, "")
    with django_assert_max_num_queries(5):
        listed = alice_client.get(f"/api/workflows/{writer.pk}/webhooks").json()
    assert [h["id"] for h in listed["results"]] == [unsigned["id"], body["id"]]
    renamed = alice_client.patch(
        f"/api/webhooks/{body['id']}", {"name": "Renamed", "signed": False}, format="json"
    )
    assert (renamed.json()["name"], renamed.json()["signed"]) == ("Renamed", False)
    assert alice_client.delete(f"/api/webhooks/{body['id']}").status_code == 204
    assert Webhook.objects.count() == 1


def test_another_users_webhooks_are_404_and_a_hook_only_starts_its_own_workflow(
    alice, bob, bob_client, writer
):
    webhook = webhook_create(owner=alice, workflow=writer)

    assert bob_client.get(f"/api/workflows/{writer.pk}/webhooks").status_code == 404
    assert bob_client.post(f"/api/workflows/{writer.pk}/webhooks", {}, format="json").status_code == 404
    assert bob_client.get(f"/api/webhooks/{webhook.pk}").status_code == 404
    assert (
        bob_client.patch(f"/api/webhooks/{webhook.pk}", {"enabled": False}, format="json").status_code == 404
    )
    assert bob_client.post(f"/api/webhooks/{webhook.pk}/rotate").status_code == 404
    assert bob_client.delete(f"/api/webhooks/{webhook.pk}").status_code == 404
    with pytest.raises(ValueError, match="owner's workflow"):
        webhook_create(owner=bob, workflow=writer)
    run = WorkflowRun.objects.get(pk=_call(webhook, {"topic": "x"}).json()["runId"])
    assert (run.owner, run.workflow_id) == (alice, writer.pk)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b'{"topic": "bad\\u0000"}', "inputs.topic"),  # PostgreSQL cannot store NUL
        (b'{"topic": "\\ud800"}', "body"),  # an unpaired surrogate is no character
        (b'{"topic": 1e999}', "body"),  # no Infinity in jsonb
        (b"[" * 100 + b"]" * 100, "body"),  # deeper than JSON_MAX_DEPTH
    ],
)
def test_bodies_the_database_cannot_store_are_a_400_not_a_500(alice, writer, raw, path):
    webhook = webhook_create(owner=alice, workflow=writer)

    response = _call(webhook, None, raw=raw)

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path
    assert not WorkflowRun.objects.exists()
