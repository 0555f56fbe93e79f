"""Sticky notes and groups through the API: saved with each version, restored, exported, imported,
duplicated, refused with field paths, and left out of what a run executes."""

from __future__ import annotations

import json

import pytest

from runs.models import WorkflowRun
from tests.graphs import node_group, sticky_note, text_to_debug_graph, workflow_payload
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Sends a write and runs what its commit runs (the cache invalidation), as a real request would."""

    def send(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)

    return send


def _drawn(**extra: object) -> dict:
    return workflow_payload(notes=[sticky_note()], groups=[node_group()], **extra)


def test_notes_and_groups_are_saved_with_the_workflow_and_each_version(alice_client, committed):
    created = committed(alice_client.post, "/api/workflows", _drawn(), format="json").json()

    assert created["notes"] == [sticky_note()]
    assert created["groups"] == [node_group()]
    moved = sticky_note(position={"x": 300, "y": 10}, text="moved")
    updated = committed(
        alice_client.put,
        f"/api/workflows/{created['id']}",
        {**_drawn(version=1), "notes": [moved], "groups": []},
        format="json",
    ).json()

    assert (updated["version"], updated["notes"], updated["groups"]) == (2, [moved], [])
    first = alice_client.get(f"/api/workflows/{created['id']}/versions/1").json()
    assert (first["notes"], first["groups"]) == ([sticky_note()], [node_group()])
    diff = alice_client.get(f"/api/workflows/{created['id']}/diff", {"from": 1, "to": 2}).json()
    assert diff["notes"] == {"added": [], "removed": [], "changed": ["note-1"]}
    assert diff["groups"] == {"added": [], "removed": ["group-1"], "changed": []}

    restored = committed(alice_client.post, f"/api/workflows/{created['id']}/versions/1/restore").json()
    assert (restored["version"], restored["notes"], restored["groups"]) == (
        3,
        [sticky_note()],
        [node_group()],
    )


def test_a_save_that_leaves_notes_and_groups_out_keeps_them_without_removed_nodes(alice_client, committed):
    """A client that knows only nodes and edges loses nothing drawn in the editor."""
    created = committed(
        alice_client.post,
        "/api/workflows",
        workflow_payload(
            notes=[sticky_note()], groups=[node_group(nodes=["text-1"]), node_group("g-2", nodes=["debug-1"])]
        ),
        format="json",
    ).json()
    only_text = {"nodes": [n for n in created["nodes"] if n["id"] == "text-1"], "edges": []}

    updated = committed(
        alice_client.put,
        f"/api/workflows/{created['id']}",
        {"name": "My flow", "description": "", "version": 1, **only_text},
        format="json",
    ).json()

    assert (updated["version"], updated["notes"]) == (2, [sticky_note()])
    assert updated["groups"] == [node_group(nodes=["text-1"])]


def test_a_workflow_saved_without_notes_or_groups_has_empty_lists(alice_client):
    body = alice_client.post("/api/workflows", workflow_payload(), format="json").json()

    assert (body["notes"], body["groups"]) == ([], [])


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"notes": [sticky_note(color="orange")]}, "notes[0].color", "must be one of"),
        ({"notes": [sticky_note(width="wide")]}, "notes[0].width", "must be a number from 60 to 2000"),
        ({"groups": [node_group(nodes=["missing"])]}, "groups[0].nodes[0]", "no node with id 'missing'"),
        ({"groups": [node_group(title=3)]}, "groups[0].title", "must be a string"),
    ],
)
def test_bad_notes_and_groups_are_a_400_naming_the_field(alice_client, change, path, message):
    response = alice_client.post("/api/workflows", workflow_payload(**change), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["path"] for error in errors] == [path]
    assert errors[0]["message"].startswith(message)
    assert not Workflow.objects.exists()


def test_a_note_that_is_not_an_object_is_a_400_at_its_place(alice_client):
    response = alice_client.post("/api/workflows", workflow_payload(notes=["text"]), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "notes[0]"


def test_export_import_and_duplicate_keep_notes_and_groups(alice, alice_client):
    created = alice_client.post("/api/workflows", _drawn(), format="json").json()

    exported = json.loads(alice_client.get(f"/api/workflows/{created['id']}/export").content)
    assert (exported["notes"], exported["groups"]) == ([sticky_note()], [node_group()])
    imported = alice_client.post("/api/workflows/import", exported, format="json").json()
    assert (imported["notes"], imported["groups"]) == ([sticky_note()], [node_group()])
    duplicate = alice_client.post(f"/api/workflows/{created['id']}/duplicate").json()
    assert (duplicate["notes"], duplicate["groups"]) == ([sticky_note()], [node_group()])


def test_another_users_workflow_with_notes_is_a_404(bob_client, alice_client):
    created = alice_client.post("/api/workflows", _drawn(), format="json").json()

    assert bob_client.get(f"/api/workflows/{created['id']}").status_code == 404


def test_a_run_of_a_workflow_with_notes_and_groups_executes_only_its_nodes(alice_client, broker):
    created = alice_client.post("/api/workflows", _drawn(), format="json").json()

    plan = alice_client.post("/api/execute/plan", {"workflowId": created["id"], **_drawn()}, format="json")
    assert plan.status_code == 200, plan.json()
    started = alice_client.post("/api/execute", {"workflowId": created["id"], **_drawn()}, format="json")

    assert started.status_code in (200, 201, 202), started.json()
    run = WorkflowRun.objects.get(pk=started.json()["runId"])
    assert [n["id"] for n in run.nodes] == [n["id"] for n in text_to_debug_graph()["nodes"]]
    assert run.total_nodes == 2
