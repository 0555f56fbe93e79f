"""`GET`/`PUT /api/workflows/{id}/mcp`: a workflow's MCP tool switch, name and description, owner only."""

from __future__ import annotations

import pytest

from mcp_server.models import WorkflowTool
from tests.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def _url(workflow) -> str:
    return f"/api/workflows/{workflow.id}/mcp"


def test_a_workflow_never_set_answers_switched_off_with_a_slug_of_its_name(alice, alice_client):
    workflow = WorkflowFactory(owner=alice, name="Summarize topic!", description="Says it short.")

    response = alice_client.get(_url(workflow))

    assert response.status_code == 200
    assert response.json() == {"enabled": False, "name": "summarize_topic", "description": "Says it short."}


def test_put_switches_the_tool_on_with_its_name_and_get_answers_the_same(alice, alice_token_client):
    workflow = WorkflowFactory(owner=alice, name="Summarize topic")
    body = {"enabled": True, "name": "summarize", "description": "Summarizes a topic."}

    put = alice_token_client.put(_url(workflow), body, format="json")
    got = alice_token_client.get(_url(workflow))

    assert put.status_code == 200
    assert put.json() == got.json() == body
    assert WorkflowTool.objects.get(workflow=workflow).owner == alice


def test_put_without_a_name_takes_the_slug_of_the_workflows_name(alice, alice_client):
    workflow = WorkflowFactory(owner=alice, name="3 Little pigs", description="")

    response = alice_client.put(_url(workflow), {"enabled": True}, format="json")

    assert response.json() == {"enabled": True, "name": "workflow_3_little_pigs", "description": ""}


def test_a_name_must_be_an_identifier(alice, alice_client):
    workflow = WorkflowFactory(owner=alice)

    response = alice_client.put(_url(workflow), {"enabled": True, "name": "sum marize"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "name"


def test_a_name_another_of_the_owners_tools_has_is_a_409_but_another_users_is_free(alice, bob, alice_client):
    first, second = WorkflowFactory(owner=alice), WorkflowFactory(owner=alice)
    bobs = WorkflowFactory(owner=bob)
    WorkflowTool.objects.create(workflow=bobs, owner=bob, enabled=True, name="summarize")
    taken = alice_client.put(_url(first), {"enabled": True, "name": "summarize"}, format="json")

    response = alice_client.put(_url(second), {"enabled": False, "name": "summarize"}, format="json")

    assert taken.status_code == 200
    assert response.status_code == 409
    message = "is already the name of another of your tools"
    assert response.json()["errors"] == [{"path": "name", "message": message}]


def test_another_users_workflow_is_a_404_and_is_left_alone(alice, bob_client):
    workflow = WorkflowFactory(owner=alice)

    assert bob_client.get(_url(workflow)).status_code == 404
    assert bob_client.put(_url(workflow), {"enabled": True, "name": "mine"}, format="json").status_code == 404
    assert not WorkflowTool.objects.exists()


def test_the_settings_need_authentication(alice, anon_client):
    workflow = WorkflowFactory(owner=alice)

    assert anon_client.get(_url(workflow)).status_code == 401
    assert anon_client.put(_url(workflow), {"enabled": True}, format="json").status_code == 401
