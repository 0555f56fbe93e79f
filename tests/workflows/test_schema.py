"""The OpenAPI schema: valid OpenAPI 3, and the workflow endpoints' real responses match it (schemathesis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
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
EXAMPLES = 12
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
    """Generated cases (mostly 400s and 404s) plus cases aimed at the user's real workflow with a valid
    body, so that the 2xx and 409 answers are checked too."""
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    pinned = {name: value for name, value in real_path.items() if f"{{{name}}}" in operation.path}
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    strategies += [operation.as_strategy(generation_mode=mode, path_parameters=pinned) for mode in modes]
    if operation.body:
        # `version` is what PUT checks (create and import ignore it): the first PUT wins, later ones 409.
        valid = {"name": "Valid", "description": "", "version": 1, **text_to_debug_graph()}
        strategies.append(
            operation.as_strategy(path_parameters=pinned, body=valid, media_type="application/json")
        )
    return st.one_of(strategies)


@pytest.fixture
def wsgi_keeps_the_test_connection() -> Iterator[None]:
    """Call the WSGI app as Django's test client does: without closing the test's database connection
    at the end of each request (it would end the test transaction on PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("wsgi_keeps_the_test_connection")
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
