"""GET /api/workflows/{id}/diff: what changed between two saved versions."""

from __future__ import annotations

import pytest

from engine.diff import graph_diff
from tests.graphs import edge, graph, node
from workflows.services import workflow_create, workflow_update

pytestmark = pytest.mark.django_db


def version_one() -> dict[str, list]:
    return graph(
        [
            node("topic", "input", name="topic"),
            node("ask", "llm", temperature=0.2),
            node("old", "debug"),
            node("out", "output", name="answer"),
        ],
        [
            edge("topic", "ask", "value", "prompt"),
            edge("ask", "out", "text", "value"),
            edge("ask", "old", "text", "value"),
        ],
    )


def version_two() -> dict[str, list]:
    return graph(
        [
            node("topic", "input", name="topic", position=(300, 40)),  # moved only: not a change
            node("ask", "llm", temperature=0),
            node("style", "input", name="style"),
            node("out", "output", name="answer"),
        ],
        [
            edge("topic", "ask", "value", "prompt"),
            edge("ask", "out", "text", "value"),
            edge("style", "ask", "value", "system"),
        ],
    )


def test_the_diff_lists_nodes_edges_and_interface_changes(alice, alice_client):
    workflow = workflow_create(owner=alice, name="Flow", **version_one())
    workflow_update(
        workflow=workflow, name="Flow", description="", expected_version=1, saved_by=alice, **version_two()
    )

    response = alice_client.get(f"/api/workflows/{workflow.pk}/diff?from=1&to=2")

    assert response.status_code == 200
    diff = response.json()
    assert (diff["from"], diff["to"]) == (1, 2)
    assert diff["nodes"] == {
        "added": [{"id": "style", "type": "input"}],
        "removed": [{"id": "old", "type": "debug"}],
        "changed": [
            {"id": "ask", "type": "llm", "fields": [{"field": "data.temperature", "old": 0.2, "new": 0}]}
        ],
    }
    assert diff["edges"]["added"] == [
        {"source": "style", "sourceHandle": "value", "target": "ask", "targetHandle": "system"}
    ]
    assert diff["edges"]["removed"] == [
        {"source": "ask", "sourceHandle": "text", "target": "old", "targetHandle": "value"}
    ]
    assert diff["interface"]["inputs"] == {"added": ["style"], "removed": [], "changed": []}
    assert diff["labels"]["old"] == "Debug old"  # a removed node keeps the name it had
    assert diff["interface"]["outputs"] == {"added": [], "removed": [], "changed": []}


def test_a_version_against_itself_has_no_changes():
    same = graph_diff(version_one(), version_one())

    assert same["nodes"] == {"added": [], "removed": [], "changed": []}
    assert same["edges"] == {"added": [], "removed": []}


def test_bad_or_missing_versions_and_another_users_workflow(alice, alice_client, bob_client):
    workflow = workflow_create(owner=alice, name="Flow", **version_one())

    assert alice_client.get(f"/api/workflows/{workflow.pk}/diff?from=1").json()["errors"][0]["path"] == "to"
    assert (
        alice_client.get(f"/api/workflows/{workflow.pk}/diff?from=x&to=1").json()["errors"][0]["path"]
        == "from"
    )
    assert alice_client.get(f"/api/workflows/{workflow.pk}/diff?from=1&to=7").status_code == 404
    assert bob_client.get(f"/api/workflows/{workflow.pk}/diff?from=1&to=1").status_code == 404
