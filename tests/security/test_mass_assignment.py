"""Mass assignment: fields a client sends that only the server may set (owner, id, version, status,
is_staff, counters, timestamps, storage keys, token digests) are ignored by every write."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ApiToken, User
from accounts.services import token_digest
from runs.models import RunStatus, WorkflowRun
from tests.factories import DEFAULT_PASSWORD
from tests.files import image_bytes
from tests.graphs import text_to_debug_graph
from uploads.models import Upload
from workflows.models import Workflow
from workflows.services import workflow_unpublish

pytestmark = pytest.mark.django_db

CHOSEN_ID = "00000000-0000-4000-8000-00000000dead"
PAST = "2001-01-01T00:00:00Z"


@pytest.fixture
def forged(bob) -> dict[str, Any]:
    """Everything an attacker might try to set, in both the API's camelCase and the models' names."""
    return {
        "id": CHOSEN_ID,
        "pk": CHOSEN_ID,
        "owner": bob.pk,
        "owner_id": bob.pk,
        "user": bob.pk,
        "userId": bob.pk,
        "is_staff": True,
        "isStaff": True,
        "is_superuser": True,
        "status": RunStatus.SUCCEEDED,
        "isPublished": True,
        "is_published": True,
        "publishedVersion": 1,
        "published_version": 1,
        "trigger": "schedule",
        "triggerRef": "forged",
        "trigger_ref": "forged",
        "createdAt": PAST,
        "created_at": PAST,
        "updatedAt": PAST,
        "runCount": 99,
        "lastRunStatus": "succeeded",
    }


def test_creating_a_workflow_ignores_server_fields(alice, alice_client, forged):
    body = {**forged, "version": 42, "name": "Mine", **text_to_debug_graph()}

    response = alice_client.post("/api/workflows", body, format="json")

    assert response.status_code == 201
    workflow = Workflow.objects.get(pk=response.json()["id"])
    assert str(workflow.pk) != CHOSEN_ID
    assert (workflow.owner, workflow.version, workflow.is_published) == (alice, 1, False)
    assert workflow.created_at.year > 2001
    assert response.json()["runCount"] == 0


def test_importing_a_workflow_ignores_server_fields(alice, alice_client, forged):
    body = {**forged, "weft": 1, "version": 42, "name": "Imported", **text_to_debug_graph()}

    response = alice_client.post("/api/workflows/import", body, format="json")

    assert response.status_code == 201
    workflow = Workflow.objects.get(pk=response.json()["id"])
    assert (str(workflow.pk) != CHOSEN_ID, workflow.owner, workflow.version) == (True, alice, 1)
    assert workflow.is_published is False


def test_saving_a_workflow_cannot_move_it_publish_it_or_jump_its_version(alice, alice_client, owned, forged):
    workflow = workflow_unpublish(workflow=owned.workflow)  # the shared fixture's workflow is published
    body = {**forged, "version": 1, "name": "Edited", "description": "", **text_to_debug_graph()}

    response = alice_client.put(f"/api/workflows/{workflow.pk}", body, format="json")

    assert response.status_code == 200
    workflow.refresh_from_db()
    assert (
        workflow.owner,
        workflow.version,
        workflow.is_published,
        workflow.published_version,
        workflow.name,
    ) == (
        alice,
        2,
        False,
        None,
        "Edited",
    )
    assert not Workflow.objects.filter(pk=CHOSEN_ID).exists()
    assert workflow.versions.get(number=2).saved_by == alice


def test_executing_cannot_choose_the_runs_owner_status_id_or_counters(alice, alice_client, owned, forged):
    body = {
        **forged,
        "workflowId": str(owned.workflow.pk),
        "runId": CHOSEN_ID,
        "totalNodes": 1000,
        "succeededNodes": 1000,
        "errorSummary": "forged",
        "recoveries": 3,
        "workflowVersion": 77,
        "trigger_id": "forged",
    }

    response = alice_client.post("/api/execute", body, format="json")

    assert response.status_code == 202
    run = WorkflowRun.objects.get(pk=response.json()["runId"])
    assert str(run.pk) != CHOSEN_ID
    assert (run.owner, run.status, run.workflow_version, run.total_nodes) == (alice, RunStatus.QUEUED, 1, 2)
    assert (run.succeeded_nodes, run.error_summary, run.recoveries) == (0, "", 0)
    assert run.trigger_id != "forged"
    assert (run.trigger, run.trigger_ref) == ("editor", "")


def test_creating_a_token_cannot_choose_its_user_secret_or_digest(alice, alice_client, forged):
    chosen_secret = "weft_chosen-by-the-client"
    body = {
        **forged,
        "name": "cli",
        "token": chosen_secret,
        "digest": token_digest(chosen_secret),
        "prefix": "x",
    }

    response = alice_client.post("/api/tokens", body, format="json")

    assert response.status_code == 201
    issued = response.json()["token"]
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert issued != chosen_secret
    assert (token.owner, token.digest, token.prefix) == (alice, token_digest(issued), issued[:11])


def test_uploading_cannot_choose_the_owner_key_or_dimensions(alice, alice_client, forged):
    body = {
        **{key: str(value) for key, value in forged.items()},
        "storage_key": "uploads/bob/evil.png",
        "storageKey": "uploads/bob/evil.png",
        "width": "9999",
        "size": "1",
        "contentType": "text/html",
        "file": SimpleUploadedFile("cat.png", image_bytes(size=(8, 8)), content_type="image/png"),
    }

    response = alice_client.post("/api/uploads", body, format="multipart")

    assert response.status_code == 201
    upload = Upload.objects.get(pk=response.json()["id"])
    assert (upload.owner, upload.width, upload.content_type) == (alice, 8, "image/png")
    assert "bob" not in upload.storage_key
    assert str(upload.pk) != CHOSEN_ID


def test_no_write_makes_anyone_staff(alice, bob, alice_client, owned, forged):
    for url, body in [
        ("/api/workflows", {**forged, "name": "x", **text_to_debug_graph()}),
        ("/api/tokens", {**forged, "name": "x"}),
        ("/api/execute", {**forged, **text_to_debug_graph()}),
    ]:
        assert alice_client.post(url, body, format="json").status_code < 300

    assert not User.objects.filter(is_staff=True).exists()
    assert not User.objects.filter(is_superuser=True).exists()


def test_signing_up_cannot_make_the_new_account_staff(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "mallory@example.com",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            "is_staff": "on",
            "is_superuser": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    mallory = User.objects.get(email="mallory@example.com")
    assert (mallory.is_staff, mallory.is_superuser) == (False, False)


def test_partial_updates_are_not_a_way_around_the_write_serializers(alice_client, owned):
    response = alice_client.patch(
        f"/api/workflows/{owned.workflow.pk}", {"owner": 999, "version": 9}, format="json"
    )

    assert response.status_code == 405
    owned.workflow.refresh_from_db()
    assert owned.workflow.version == 1


def test_a_forged_id_in_the_path_is_not_a_new_object(alice_client):
    response = alice_client.put(
        f"/api/workflows/{uuid.uuid4()}", {"name": "x", "version": 1, **text_to_debug_graph()}, format="json"
    )

    assert response.status_code == 404
    assert not Workflow.objects.exists()
