"""Version history: list, one version, and restore (which saves a new version equal to the old one)."""

from __future__ import annotations

import pytest

from tests.graphs import workflow_payload
from workflows.models import WorkflowVersion
from workflows.services import workflow_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited_twice(alice, alice_workflow):
    for version, name in [(1, "Second"), (2, "Third")]:
        body = workflow_payload(name=name, text=name.lower())
        del body["name"]
        workflow_update(workflow=alice_workflow, name=name, expected_version=version, saved_by=alice, **body)
    return alice_workflow


def test_versions_lists_every_saved_version_newest_first(alice_client, edited_twice):
    response = alice_client.get(f"/api/workflows/{edited_twice.pk}/versions")

    assert response.status_code == 200
    body = response.json()
    assert [(v["number"], v["name"]) for v in body] == [(3, "Third"), (2, "Second"), (1, "Alice's flow")]
    assert set(body[0]) == {"number", "name", "note", "savedBy", "createdAt"}
    assert body[0]["savedBy"] == "alice@example.com"


def test_versions_list_costs_a_fixed_number_of_queries(
    alice_client, edited_twice, django_assert_max_num_queries
):
    # Session, user, the workflow, then versions joined with their savers.
    with django_assert_max_num_queries(4):
        assert len(alice_client.get(f"/api/workflows/{edited_twice.pk}/versions").json()) == 3


def test_one_version_returns_its_snapshot(alice_client, edited_twice):
    response = alice_client.get(f"/api/workflows/{edited_twice.pk}/versions/2")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "number",
        "name",
        "description",
        "note",
        "nodes",
        "edges",
        "notes",
        "groups",
        "savedBy",
        "createdAt",
    }
    assert (body["number"], body["name"]) == (2, "Second")
    assert body["nodes"][0]["data"]["text"] == "second"


@pytest.mark.parametrize("number", [0, 4, 2**31, 10**30])
def test_a_version_that_does_not_exist_is_404(alice_client, edited_twice, number):
    assert alice_client.get(f"/api/workflows/{edited_twice.pk}/versions/{number}").status_code == 404
    restore = alice_client.post(f"/api/workflows/{edited_twice.pk}/versions/{number}/restore")
    assert restore.status_code == 404


def test_restore_saves_a_new_version_equal_to_the_old_one(bob, alice_client, edited_twice):
    response = alice_client.post(f"/api/workflows/{edited_twice.pk}/versions/1/restore")

    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["name"]) == (4, "Alice's flow")
    assert body["nodes"][0]["data"]["text"] == "hello"
    restored = WorkflowVersion.objects.get(workflow=edited_twice, number=4)
    original = WorkflowVersion.objects.get(workflow=edited_twice, number=1)
    assert (restored.name, restored.description, restored.nodes, restored.edges) == (
        original.name,
        original.description,
        original.nodes,
        original.edges,
    )
    assert edited_twice.versions.count() == 4
    assert restored.note == "Restored version 1"


def test_restore_refuses_a_version_the_engine_no_longer_accepts(alice_client, edited_twice):
    WorkflowVersion.objects.filter(workflow=edited_twice, number=1).update(
        nodes=[{"id": "x", "type": "retired-kind", "data": {}}]
    )

    response = alice_client.post(f"/api/workflows/{edited_twice.pk}/versions/1/restore")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "nodes[0].type"
    edited_twice.refresh_from_db()
    assert edited_twice.version == 3


def test_a_snapshot_is_immutable_after_later_saves(alice, alice_workflow):
    snapshot = alice_workflow.versions.get(number=1)
    original = (snapshot.name, snapshot.nodes)

    workflow_update(
        workflow=alice_workflow,
        name="Changed",
        description="",
        nodes=[],
        edges=[],
        expected_version=1,
        saved_by=alice,
    )

    snapshot.refresh_from_db()
    assert (snapshot.name, snapshot.nodes) == original


@pytest.mark.parametrize("version", [2**31 - 1, 2**31, 2**63])
def test_saving_an_edit_of_a_version_past_the_stored_range_is_a_400_naming_version(
    alice_client, alice_workflow, version
):
    # Saving version N writes N + 1: past 2**31 - 2 that overflowed PostgreSQL's integer (a 500).
    response = alice_client.put(
        f"/api/workflows/{alice_workflow.pk}", {**workflow_payload(), "version": version}, format="json"
    )

    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == ["version"]


def test_an_edit_of_the_largest_editable_version_is_only_stale(alice_client, alice_workflow):
    response = alice_client.put(
        f"/api/workflows/{alice_workflow.pk}", {**workflow_payload(), "version": 2**31 - 2}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["currentVersion"] == 1


def test_the_schema_says_the_range_of_the_edited_version(alice_token_client):
    schema = alice_token_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    version = schema["components"]["schemas"]["WorkflowUpdateRequest"]["properties"]["version"]
    assert (version["minimum"], version["maximum"]) == (1, 2**31 - 2)


def test_a_save_keeps_its_note_and_the_versions_list_shows_it(alice_client, alice_workflow):
    body = {**workflow_payload(name="Noted", text="noted"), "version": 1, "note": "Shorter greeting"}
    assert alice_client.put(f"/api/workflows/{alice_workflow.pk}", body, format="json").status_code == 200

    versions = alice_client.get(f"/api/workflows/{alice_workflow.pk}/versions").json()
    assert [(v["number"], v["note"]) for v in versions] == [(2, "Shorter greeting"), (1, "")]


def test_a_note_longer_than_200_characters_is_a_400_naming_note(alice_client, alice_workflow):
    body = {**workflow_payload(name="Noted", text="noted"), "version": 1, "note": "x" * 201}
    response = alice_client.put(f"/api/workflows/{alice_workflow.pk}", body, format="json")

    assert response.status_code == 400
    assert "note" in str(response.json())
