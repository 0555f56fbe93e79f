"""The API's one 400 format, `{detail, errors: [{path, message}]}`, and its single schema component."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import ErrorDetail

from core.api import error_paths

pytestmark = pytest.mark.django_db


def test_nested_serializer_errors_become_dotted_and_indexed_paths():
    errors = {
        "name": [ErrorDetail("This field is required.")],
        "nodeIds": {2: [ErrorDetail("Not a valid string.")]},
        "nodes": [{}, {"data": {"temperature": [ErrorDetail("Too hot.")]}}],
        "options": {"non_field_errors": [ErrorDetail("Pick one.")]},
        "non_field_errors": [ErrorDetail("Give a workflowId or a graph.")],
    }

    assert error_paths(errors) == [
        {"path": "name", "message": "This field is required."},
        {"path": "nodeIds[2]", "message": "Not a valid string."},
        {"path": "nodes[1].data.temperature", "message": "Too hot."},
        {"path": "options", "message": "Pick one."},
        {"path": "body", "message": "Give a workflowId or a graph."},
    ]


def test_a_body_that_is_not_json_is_a_400_about_the_body(alice_client):
    response = alice_client.post("/api/workflows", "{not json", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("JSON parse error")
    assert body["errors"] == [{"path": "body", "message": body["detail"]}]


def test_every_documented_400_references_the_one_error_component(alice_client):
    schema = alice_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    bad_requests = [
        operation["responses"]["400"]
        for path in schema["paths"].values()
        for operation in path.values()
        if "400" in operation["responses"]
    ]
    assert len(bad_requests) >= 8
    refs = {response["content"]["application/json"]["schema"]["$ref"] for response in bad_requests}
    assert refs == {"#/components/schemas/BadRequest"}
    component = schema["components"]["schemas"]["BadRequest"]
    assert set(component["required"]) == {"detail", "errors"}
    assert set(schema["components"]["schemas"]["FieldError"]["required"]) == {"path", "message"}
