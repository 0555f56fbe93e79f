"""The OpenAPI schema is valid OpenAPI 3 and Swagger UI is served.

That every operation (the workflow ones included) answers as the schema says is proven by schemathesis in
tests/security/test_schema_fuzz.py, with a valid body and real ids per operation.
"""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_3(alice_token_client):
    response = alice_token_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    operation_ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert {
        "/api/workflows",
        "/api/workflows/{workflow_id}/versions/{number}/restore",
        "/api/node-kinds",
    } <= set(schema["paths"])


def test_swagger_ui_is_served_to_a_logged_in_user(alice_client):
    response = alice_client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_every_operation_but_health_documents_the_authentication_errors(alice_token_client):
    schema = alice_token_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not {"401", "403"} <= set(operation["responses"])
    ]
    assert undocumented == ["GET /api/health"]
