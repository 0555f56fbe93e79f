"""Duplicate, export to a JSON file, import it (or a plain React Flow graph) back, and the node kinds."""

from __future__ import annotations

import json

import pytest

from engine import node_kind_catalog
from runs.models import WorkflowRun
from tests.graphs import text_to_debug_graph
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def test_duplicate_creates_a_fresh_copy_of_the_current_graph(alice, alice_client, alice_workflow):
    WorkflowRun.objects.create(owner=alice, workflow=alice_workflow)

    response = alice_client.post(f"/api/workflows/{alice_workflow.pk}/duplicate")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != str(alice_workflow.pk)
    assert body["name"] == "Alice's flow (copy)"
    assert (body["version"], body["runCount"], body["isPublished"]) == (1, 0, False)
    assert body["nodes"] == alice_workflow.nodes
    copy = Workflow.objects.get(pk=body["id"])
    assert copy.owner == alice
    assert copy.versions.count() == 1


def test_duplicate_keeps_a_long_name_within_the_limit(alice_client, alice_workflow):
    Workflow.objects.filter(pk=alice_workflow.pk).update(name="n" * 200)

    body = alice_client.post(f"/api/workflows/{alice_workflow.pk}/duplicate").json()

    assert len(body["name"]) == 200
    assert body["name"].endswith(" (copy)")


def test_export_downloads_a_json_file(alice_client, alice_workflow):
    response = alice_client.get(f"/api/workflows/{alice_workflow.pk}/export", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="alices-flow.weft.json"'
    assert json.loads(response.content) == {
        "weft": 1,
        "name": "Alice's flow",
        "description": "first",
        **text_to_debug_graph(),
        "notes": [],
        "groups": [],
    }


def test_an_exported_file_imports_back_as_a_new_workflow(alice, alice_client, alice_workflow):
    exported = json.loads(alice_client.get(f"/api/workflows/{alice_workflow.pk}/export").content)

    response = alice_client.post("/api/workflows/import", exported, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != str(alice_workflow.pk)
    assert (body["name"], body["description"], body["version"]) == ("Alice's flow", "first", 1)
    assert (body["nodes"], body["edges"]) == (alice_workflow.nodes, alice_workflow.edges)
    assert Workflow.objects.get(pk=body["id"]).owner == alice


def test_a_plain_react_flow_file_imports_with_a_default_name(alice_client):
    react_flow = {**text_to_debug_graph(), "viewport": {"x": 0, "y": 0, "zoom": 1}}

    response = alice_client.post("/api/workflows/import", react_flow, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "Imported workflow"


def test_import_refuses_unknown_formats_bad_shapes_and_invalid_graphs(alice_client):
    unknown = alice_client.post("/api/workflows/import", {"weft": 2, **text_to_debug_graph()}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [
        {"path": "weft", "message": "Unsupported export format 2; this Weft reads format 1."}
    ]

    shapeless = alice_client.post("/api/workflows/import", {"graph": {}}, format="json")
    assert shapeless.status_code == 400
    assert shapeless.json()["errors"] == [
        {"path": "nodes", "message": "This field is required."},
        {"path": "edges", "message": "This field is required."},
    ]

    graph = text_to_debug_graph()
    graph["edges"][0]["sourceHandle"] = "nope"
    invalid = alice_client.post("/api/workflows/import", graph, format="json")
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["path"] == "edges[0].sourceHandle"

    assert not Workflow.objects.exists()


def test_import_of_a_file_over_1_mib_is_413(alice_client):
    graph = text_to_debug_graph("x" * (1024 * 1024))

    assert alice_client.post("/api/workflows/import", graph, format="json").status_code == 413


def test_import_ignores_read_only_fields(bob, alice, alice_client):
    payload = {**text_to_debug_graph(), "owner": bob.pk, "version": 9, "id": "x", "isPublished": True}

    body = alice_client.post("/api/workflows/import", payload, format="json").json()

    assert (body["version"], body["isPublished"]) == (1, False)
    assert Workflow.objects.get(pk=body["id"]).owner == alice


def test_node_kinds_lists_the_engine_catalog(alice_client, settings):
    response = alice_client.get("/api/node-kinds")

    assert response.status_code == 200
    body = response.json()
    assert body == json.loads(json.dumps(node_kind_catalog(max_text_chars=settings.GRAPH_MAX_TEXT_CHARS)))
    orders = [kind["palette"]["order"] for kind in body]
    assert orders == sorted(orders)
    condition = next(kind for kind in body if kind["type"] == "condition")
    assert [port["name"] for port in condition["outputs"]] == [
        "true",
        "false",
        "error",
    ]  # error: onError branch
    llm = next(kind for kind in body if kind["type"] == "llm")
    assert {port["name"] for port in llm["inputs"]} == {"prompt", "system", "images"}
    assert llm["dataSchema"]["properties"]["temperature"]["maximum"] == 2


def test_port_types_serve_how_port_types_connect(alice_client):
    response = alice_client.get("/api/port-types")

    assert response.status_code == 200
    assert response.json() == {"wildcard": "any", "conversions": [["text", "json"], ["json", "text"]]}
