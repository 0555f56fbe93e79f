"""The template gallery: GET /api/workflow-templates and POST /api/workflows/from-template."""

from __future__ import annotations

import json

import pytest

from core.engine_config import graph_limits
from engine import validate_graph
from runs.driving import run_execute
from runs.models import RunStatus
from runs.selectors import run_outputs
from runs.services import run_create
from workflows.gallery import TEMPLATES
from workflows.models import Workflow
from workflows.services import workflow_publish

pytestmark = pytest.mark.django_db

GALLERY = "/api/workflow-templates"
FROM_TEMPLATE = "/api/workflows/from-template"


def test_the_gallery_lists_the_five_templates_without_touching_the_database(
    alice_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):  # the session's user; the gallery itself is code
        response = alice_client.get(GALLERY)

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()] == [
        "summarize-a-page",
        "classify-and-route",
        "extract-json",
        "describe-an-image",
        "map-over-a-list",
    ]
    by_slug = {item["slug"]: item for item in response.json()}
    assert "http" in by_slug["summarize-a-page"]["nodeKinds"]
    assert by_slug["map-over-a-list"]["createsHelper"] == "Translate one line"
    assert by_slug["extract-json"]["createsHelper"] is None


@pytest.mark.parametrize("template", [template.slug for template in TEMPLATES])
def test_each_template_copies_into_a_workflow_ready_to_publish(alice, alice_client, template):
    response = alice_client.post(FROM_TEMPLATE, {"template": template}, format="json")

    assert response.status_code == 201, response.content
    workflow = Workflow.objects.get(pk=response.json()["id"], owner=alice)
    assert workflow.version == 1
    assert validate_graph(workflow.graph, limits=graph_limits(), complete=False) == []
    # Ready to run as it is: publishing validates it fully, callees included.
    workflow_publish(workflow=workflow)
    assert len(response.json()["inputs"]) == 1
    assert len(response.json()["outputs"]) == 1


def test_map_over_a_list_calls_the_helper_copied_for_the_same_user(alice, bob, alice_client, bob_client):
    mine = alice_client.post(FROM_TEMPLATE, {"template": "map-over-a-list"}, format="json").json()
    theirs = bob_client.post(FROM_TEMPLATE, {"template": "map-over-a-list"}, format="json").json()

    helper = Workflow.objects.get(owner=alice, name="Translate one line")
    (map_node,) = [node for node in mine["nodes"] if node["type"] == "map"]
    assert map_node["data"]["workflowId"] == str(helper.pk)
    (their_map,) = [node for node in theirs["nodes"] if node["type"] == "map"]
    assert their_map["data"]["workflowId"] == str(
        Workflow.objects.get(owner=bob, name="Translate one line").pk
    )
    assert Workflow.objects.filter(owner=alice).count() == 2


def test_an_unknown_template_is_a_400_naming_the_field(alice_client):
    response = alice_client.post(FROM_TEMPLATE, {"template": "../hello-weft"}, format="json")

    assert response.status_code == 400
    assert "template" in json.dumps(response.json())
    assert not Workflow.objects.exists()


def test_the_extract_json_copy_runs_and_outputs_the_models_json(alice, alice_client, llm_settings):
    contact = {"name": "Ada", "email": "ada@example.com", "company": "AE"}
    llm_settings.reply = lambda provider, body: json.dumps(contact)
    created = alice_client.post(FROM_TEMPLATE, {"template": "extract-json"}, format="json").json()
    workflow = Workflow.objects.get(pk=created["id"])

    run = run_create(
        owner=alice, graph=workflow.graph, workflow=workflow, inputs={"text": "Ada at AE"}, enqueue=False
    )
    run = run_execute(run_id=str(run.id))

    assert run.status == RunStatus.SUCCEEDED
    assert run_outputs(run=run) == {"contact": contact}
