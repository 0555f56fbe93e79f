"""The OpenAPI schema: valid OpenAPI 3, and the workflow endpoints' real responses match it (schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from tests.factories import text_to_debug_graph
from workflows.services import workflow_create
from workflowsite.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation and generation mode; the whole run stays within a few seconds.
EXAMPLES = 8
WORKFLOW_PATHS = r"^/api/(workflows|node-kinds)"


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


def _strategy(operation: Any, real_path: dict[str, Any]) -> st.SearchStrategy:
    """Cases with generated path values (mostly 404s) and with a real workflow of the user's (2xx)."""
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if operation.path_parameters:
        pinned = {name: real_path[name] for name in real_path if name in operation.path}
        strategies += [operation.as_strategy(generation_mode=mode, path_parameters=pinned) for mode in modes]
    return st.one_of(strategies)


def test_workflow_endpoints_answer_as_their_schema_says(alice):
    secret = api_token_create(user=alice, name="schemathesis").secret
    auth = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=auth)
    schema = schema.include(path_regex=WORKFLOW_PATHS)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12

    for operation in operations:
        # A fresh workflow per operation: DELETE may remove it, PUT bumps its version.
        workflow = workflow_create(owner=alice, name="Target", **text_to_debug_graph())
        real_path = {"workflow_id": str(workflow.pk), "number": 1}

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, real_path))
        def check(case: Any) -> None:
            case.call_and_validate(headers=auth, checks=CHECKS)

        check()
