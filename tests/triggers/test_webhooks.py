"""Webhooks: the secret URL (shown once, stored as a digest, not logged), HMAC signatures, body fields as
inputs, limits, rotation, disabling, CRUD."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.asgi import get_asgi_application
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from runs.models import RunTrigger, WorkflowRun
from triggers.models import Webhook
from triggers.services import IssuedWebhook, webhook_create
from triggers.signatures import webhook_signature
from workflows.services import workflow_publish, workflow_unpublish

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _hook_path(hook: IssuedWebhook) -> str:
    return f"/hooks/{hook.token}"


def _now() -> str:
    return str(int(time.time()))


def _call(
    hook: IssuedWebhook,
    payload: object,
    *,
    signature: str | None = "sign",
    raw: bytes | None = None,
    timestamp: str | None = "now",
):
    """POST to the hook as a sender does: the body signed with the current time, unless told otherwise."""
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = _now() if timestamp == "now" else timestamp
    headers = {}
    if timestamp is not None:
        headers["HTTP_X_WEFT_TIMESTAMP"] = timestamp
    if signature == "sign":
        headers["HTTP_X_WEFT_SIGNATURE"] = webhook_signature(
            secret=hook.signing_secret, timestamp=timestamp or "", body=body
        )
    elif signature is not None:
        headers["HTTP_X_WEFT_SIGNATURE"] = signature
    return APIClient().generic("POST", _hook_path(hook), body, content_type="application/json", **headers)


def _issued_by_api(hook: IssuedWebhook, body: dict) -> IssuedWebhook:
    """The hook with the URL and secret an API answer (creation, rotation) has just shown."""
    token = body["url"].rsplit("/", 1)[1]
    return IssuedWebhook(hook.webhook, token=token, signing_secret=body["signingSecret"])


def test_a_signed_call_starts_a_run_of_the_published_version_with_the_body_as_inputs(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    webhook = hook.webhook

    response = _call(hook, {"topic": "otters", "action": "opened", "sender": {"login": "x"}})

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
    hook = webhook_create(owner=alice, workflow=writer)
    body = json.dumps({"topic": "x"}).encode()
    if signature == "wrong-secret":
        signature = webhook_signature(secret="not-the-secret", timestamp=_now(), body=body)

    response = _call(hook, None, signature=signature, raw=body)

    assert response.status_code == 401
    assert "X-Weft-Signature" in response.json()["detail"]
    assert not WorkflowRun.objects.exists()


def test_the_signature_covers_the_raw_body(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    signed_for = json.dumps({"topic": "x"}).encode()

    response = _call(
        hook,
        None,
        signature=webhook_signature(secret=hook.signing_secret, timestamp=_now(), body=signed_for),
        raw=json.dumps({"topic": "y"}).encode(),
    )

    assert response.status_code == 401


def test_the_signature_covers_the_timestamp(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    body = json.dumps({"topic": "x"}).encode()
    signed_at = _now()

    response = _call(
        hook,
        None,
        raw=body,
        signature=webhook_signature(secret=hook.signing_secret, timestamp=signed_at, body=body),
        timestamp=str(int(signed_at) - 1),
    )

    assert response.status_code == 401


@pytest.mark.parametrize("timestamp", [None, "", "soon", "-5", "1.5e9", "17000000000000"])
def test_a_signed_hook_needs_a_unix_timestamp(alice, writer, timestamp):
    hook = webhook_create(owner=alice, workflow=writer)

    response = _call(hook, {"topic": "x"}, timestamp=timestamp)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Missing or malformed X-Weft-Timestamp")
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_the_tolerance_window_is_refused(alice, writer, offset):
    hook = webhook_create(owner=alice, workflow=writer)

    response = _call(hook, {"topic": "x"}, timestamp=str(int(time.time()) + offset))

    assert response.status_code == 401
    assert "within 300 s of the server's clock" in response.json()["detail"]
    assert not WorkflowRun.objects.exists()


def test_a_timestamp_inside_the_window_is_accepted(settings, alice, writer):
    settings.WEBHOOK_TOLERANCE_SECONDS = 60
    hook = webhook_create(owner=alice, workflow=writer)

    answers = [_call(hook, {"topic": "x"}, timestamp=str(int(time.time()) + offset)) for offset in (-50, 50)]

    assert [a.status_code for a in answers] == [202, 202]


def test_a_replayed_signed_call_is_refused_within_the_window(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    body = json.dumps({"topic": "x"}).encode()
    timestamp = _now()
    signature = webhook_signature(secret=hook.signing_secret, timestamp=timestamp, body=body)

    first = _call(hook, None, raw=body, signature=signature, timestamp=timestamp)
    replay = _call(hook, None, raw=body, signature=signature, timestamp=timestamp)

    assert (first.status_code, replay.status_code) == (202, 401)
    assert "already used" in replay.json()["detail"]
    assert WorkflowRun.objects.count() == 1
    assert _call(hook, {"topic": "x"}, timestamp=str(int(timestamp) + 1)).status_code == 202


def test_a_signed_call_refused_before_its_run_may_be_sent_again(settings, alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    body = json.dumps({"topic": "x"}).encode()
    timestamp = _now()
    signature = webhook_signature(secret=hook.signing_secret, timestamp=timestamp, body=body)
    workflow_unpublish(workflow=writer)

    refused = _call(hook, None, raw=body, signature=signature, timestamp=timestamp)
    workflow_publish(workflow=writer)
    sent_again = _call(hook, None, raw=body, signature=signature, timestamp=timestamp)

    assert (refused.status_code, sent_again.status_code) == (409, 202)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_replays_start_one_run(alice, writer):
    """Eight threads, each with its own PostgreSQL connection, send the same signed call at once."""
    hook = webhook_create(owner=alice, workflow=writer)
    body = json.dumps({"topic": "x"}).encode()
    timestamp = _now()
    signature = webhook_signature(secret=hook.signing_secret, timestamp=timestamp, body=body)
    start = threading.Barrier(8)
    answers: list[int] = []

    def send() -> None:
        try:
            start.wait(timeout=30)
            answers.append(_call(hook, None, raw=body, signature=signature, timestamp=timestamp).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers) == [202] + [401] * 7
    assert WorkflowRun.objects.count() == 1


def test_an_unsigned_webhook_needs_no_signature_nor_timestamp(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer, signed=False)

    assert _call(hook, {"topic": "x"}, signature=None, timestamp=None).status_code == 202


def test_unknown_disabled_and_rotated_urls_all_answer_the_same_404(alice, alice_client, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    old_path = _hook_path(hook)

    rotated = alice_client.post(f"/api/webhooks/{hook.webhook.pk}/rotate").json()
    after_rotation = APIClient().post(old_path, {"topic": "x"}, format="json")
    unknown = APIClient().post("/hooks/no-such-hook", {"topic": "x"}, format="json")
    alice_client.patch(f"/api/webhooks/{hook.webhook.pk}", {"enabled": False}, format="json")
    disabled = _call(_issued_by_api(hook, rotated), {"topic": "x"})

    assert rotated["url"].startswith("http://testserver/hooks/")
    assert old_path not in rotated["url"]
    answers = [(r.status_code, r.json()) for r in (after_rotation, unknown, disabled)]
    assert answers == [(404, {"detail": "Not found."})] * 3
    assert not WorkflowRun.objects.exists()


def test_rotation_also_changes_the_signing_secret(alice, alice_client, writer):
    hook = webhook_create(owner=alice, workflow=writer)

    rotated = _issued_by_api(hook, alice_client.post(f"/api/webhooks/{hook.webhook.pk}/rotate").json())

    assert len(rotated.signing_secret) == 64
    assert rotated.signing_secret != hook.signing_secret
    payload = json.dumps({"topic": "x"}).encode()
    with_old_secret = webhook_signature(secret=hook.signing_secret, timestamp=_now(), body=payload)
    assert _call(rotated, None, signature=with_old_secret, raw=payload).status_code == 401
    assert _call(rotated, {"topic": "x"}).status_code == 202


def test_a_body_over_the_limit_is_a_413(settings, alice, writer):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    hook = webhook_create(owner=alice, workflow=writer)

    response = _call(hook, {"topic": "x" * 200})

    assert response.status_code == 413
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_a_400(alice, writer, raw):
    hook = webhook_create(owner=alice, workflow=writer)

    response = _call(hook, None, raw=raw)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "body"
    assert error["message"].startswith("The body must be a JSON object")


def test_input_errors_are_a_400_with_paths(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)

    response = _call(hook, {"topic": 5})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "inputs.topic", "message": "must be a string (a text input)"}
    ]


def test_an_unpublished_workflow_is_a_409(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)
    workflow_unpublish(workflow=writer)

    response = _call(hook, {"topic": "x"})

    assert response.status_code == 409
    assert "not published" in response.json()["detail"]


def test_each_webhook_has_its_own_rate_limit(settings, alice, writer):
    settings.WEBHOOK_RATE_LIMIT = "2/m"
    busy, quiet = (webhook_create(owner=alice, workflow=writer) for _ in range(2))

    # A different body each time: a sender never sends one signed call twice.
    answers = [_call(busy, {"topic": f"x{i}"}) for i in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert _call(quiet, {"topic": "x"}).status_code == 202


def test_calls_with_a_wrong_signature_do_not_use_up_the_webhooks_rate_limit(settings, alice, writer):
    settings.WEBHOOK_RATE_LIMIT = "2/m"
    hook = webhook_create(owner=alice, workflow=writer)

    forged = [_call(hook, {"topic": "x"}, signature="sha256=" + "0" * 64) for _ in range(3)]

    assert [a.status_code for a in forged] == [401, 401, 401]
    assert _call(hook, {"topic": "x"}).status_code == 202


def test_webhook_calls_count_against_the_owners_run_limit(settings, alice, alice_client, writer):
    settings.EXECUTE_RATE_LIMIT = "1/m"
    hook = webhook_create(owner=alice, workflow=writer)

    assert _call(hook, {"topic": "x"}).status_code == 202
    assert _call(hook, {"topic": "y"}).status_code == 429
    assert (
        alice_client.post(
            f"/api/workflows/{writer.pk}/runs", {"inputs": {"topic": "x"}}, format="json"
        ).status_code
        == 429
    )


def test_get_is_not_allowed(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)

    assert APIClient().get(_hook_path(hook)).status_code == 405


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
    assert body["tokenPrefix"] == body["url"].rsplit("/", 1)[1][:4]
    assert (unsigned["signed"], unsigned["signingSecret"]) == (False, "")
    with django_assert_max_num_queries(5):
        listed = alice_client.get(f"/api/workflows/{writer.pk}/webhooks").json()
    assert [h["id"] for h in listed["results"]] == [unsigned["id"], body["id"]]
    renamed = alice_client.patch(
        f"/api/webhooks/{body['id']}", {"name": "Renamed", "signed": False}, format="json"
    )
    assert (renamed.json()["name"], renamed.json()["signed"]) == ("Renamed", False)
    assert "signingSecret" not in renamed.json()
    assert alice_client.delete(f"/api/webhooks/{body['id']}").status_code == 204
    assert Webhook.objects.count() == 1


def test_another_users_webhooks_are_404_and_a_hook_only_starts_its_own_workflow(
    alice, bob, bob_client, writer
):
    hook = webhook_create(owner=alice, workflow=writer)
    webhook = hook.webhook

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
    run = WorkflowRun.objects.get(pk=_call(hook, {"topic": "x"}).json()["runId"])
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
    hook = webhook_create(owner=alice, workflow=writer)

    response = _call(hook, None, raw=raw)

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path
    assert not WorkflowRun.objects.exists()


def test_reads_show_neither_the_url_nor_the_signing_secret(alice, alice_client, writer):
    hook = webhook_create(owner=alice, workflow=writer)

    detail = alice_client.get(f"/api/webhooks/{hook.webhook.pk}")
    listed = alice_client.get(f"/api/workflows/{writer.pk}/webhooks")
    renamed = alice_client.patch(f"/api/webhooks/{hook.webhook.pk}", {"name": "GitHub"}, format="json")

    for response in (detail, listed, renamed):
        assert response.status_code == 200
        text = response.content.decode()
        assert hook.token not in text
        assert hook.signing_secret not in text
    [listed_hook] = listed.json()["results"]
    for shown in (detail.json(), listed_hook, renamed.json()):
        assert "url" not in shown
        assert "signingSecret" not in shown
        assert (shown["signed"], shown["tokenPrefix"]) == (True, hook.token[:4])


def test_switching_signing_on_shows_the_new_secret_once(alice, alice_client, writer):
    hook = webhook_create(owner=alice, workflow=writer, signed=False)

    switched = alice_client.patch(f"/api/webhooks/{hook.webhook.pk}", {"signed": True}, format="json").json()
    read_after = alice_client.get(f"/api/webhooks/{hook.webhook.pk}").json()

    assert (switched["signed"], len(switched["signingSecret"])) == (True, 64)
    assert "signingSecret" not in read_after
    signed_hook = IssuedWebhook(hook.webhook, token=hook.token, signing_secret=switched["signingSecret"])
    assert _call(signed_hook, {"topic": "x"}).status_code == 202


def test_the_database_holds_a_digest_of_the_url_token_never_the_token(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM triggers_webhook")
        stored = repr(cursor.fetchall())

    assert hook.token not in stored
    assert hashlib.sha256(hook.token.encode()).hexdigest() in stored
    assert _call(hook, {"topic": "x"}).status_code == 202


@pytest.mark.parametrize("case", ["wrong signature (401)", "unknown (404)", "unpublished (409)"])
def test_the_request_log_of_a_refused_call_does_not_write_the_token(alice, writer, caplog, case):
    hook = webhook_create(owner=alice, workflow=writer)
    if case == "unknown (404)":
        hook = IssuedWebhook(hook.webhook, token="Zq9x" + hook.token[4:][::-1], signing_secret="")
    if case == "unpublished (409)":
        workflow_unpublish(workflow=writer)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = _call(hook, {"topic": "x"}, signature="sha256=0" if case.startswith("wrong") else "sign")

    assert response.status_code in (401, 404, 409)
    [record] = [r for r in caplog.records if r.name == "django.request"]
    logged = f"{record.getMessage()} {getattr(record, 'request', '')}"
    assert hook.token not in logged
    assert hook.token[4:10] not in logged
    assert f"/hooks/{hook.token[:4]}…" in record.getMessage()


def _post_chunked(path: str, chunks: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """POST through the ASGI application as uvicorn hands it a `Transfer-Encoding: chunked` body: several
    body messages and no Content-Length. Returns the status, headers and body of the answer."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("203.0.113.7", 5000),
        "server": ("testserver", 80),
    }
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        if incoming:
            return incoming.pop(0)
        # The client stays connected until the answer is sent (Django cancels this wait then).
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    # As Django's test clients do: the handler's end-of-request signal would close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        async_to_sync(get_asgi_application())(scope, receive, send)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, body


def test_a_chunked_body_over_the_limit_is_the_json_413(settings, alice, writer, caplog):
    # Scaled down from a 300 MB body: past both the webhook limit and Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    settings.WEBHOOK_MAX_BODY_BYTES = 1_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4_000
    hook = webhook_create(owner=alice, workflow=writer, signed=False)

    with caplog.at_level(logging.WARNING):
        status, headers, body = _post_chunked(_hook_path(hook), [b'{"topic": "' + b"x" * 1_000] * 8)

    assert (status, headers["content-type"]) == (413, "application/json")
    assert json.loads(body) == {"detail": "The body is over the webhook limit of 1000 bytes."}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not WorkflowRun.objects.exists()


def test_a_chunked_body_within_the_limit_starts_a_run(alice, writer):
    hook = webhook_create(owner=alice, workflow=writer, signed=False)

    status, _, body = _post_chunked(_hook_path(hook), [b'{"topic": ', b'"otters"}'])

    assert status == 202
    assert WorkflowRun.objects.get(pk=json.loads(body)["runId"]).inputs == {"topic": "otters"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5m", "WEBHOOK_TOLERANCE_SECONDS must be an integer, got '5m'"),
        ("0", "WEBHOOK_TOLERANCE_SECONDS must be between 1 and 86400, got 0"),
    ],
)
def test_a_malformed_tolerance_setting_stops_start_up_naming_it(value, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="workflowsite.settings", DJANGO_DEBUG="true", WEBHOOK_TOLERANCE_SECONDS=value
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert message in result.stderr
