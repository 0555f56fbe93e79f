"""The API's one error shape, `{detail, errors?}` (always `errors: [{path, message}]` on a 400,
`requestId` on a 5xx), the one handler that answers it, and its single schema component."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail

from core.api import ERRORS_DESCRIPTION, error_paths, error_response, exception_handler
from core.errors import CAP_RETRY_AFTER_SECONDS, DomainError, NotFound

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


def _answer(exc: Exception, request: object = None) -> tuple[int, dict, dict]:
    response = exception_handler(exc, {"request": request})
    headers = {name: response[name] for name in ("Retry-After",) if name in response}
    return response.status_code, response.data, headers


def test_a_domain_400_without_paths_names_the_whole_body():
    assert _answer(DomainError("No.")) == (
        400,
        {"detail": "No.", "errors": [{"path": "body", "message": "No."}]},
        {},
    )


def test_a_domain_error_keeps_its_paths_and_extra_fields_after_detail_and_errors():
    errors = [{"path": "file", "message": "Full."}]
    status, body, _ = _answer(_Full("Full.", errors=errors, currentVersion=3))

    assert (status, list(body), body["errors"], body["currentVersion"]) == (
        409,
        ["detail", "errors", "currentVersion"],
        errors,
        3,
    )


def test_a_not_found_is_its_detail_alone():
    assert _answer(NotFound("No such run.")) == (404, {"detail": "No such run."}, {})


def test_a_refusal_with_retry_after_is_a_429_with_the_header_and_drfs_wording():
    status, body, headers = _answer(_Busy("Too many runs.", retry_after=CAP_RETRY_AFTER_SECONDS))

    assert (status, body, headers) == (
        429,
        {"detail": "Too many runs. Expected available in 5 seconds."},
        {"Retry-After": "5"},
    )


def test_a_5xx_body_carries_the_request_id():
    request = RequestFactory().get("/api/workflows")
    request.request_id = "abc123"

    status, body, _ = _answer(exceptions.APIException("Broken."), request)

    assert (status, body) == (500, {"detail": "Broken.", "requestId": "abc123"})


def test_a_view_outside_drf_answers_the_same_body_and_headers():
    response = error_response(_Busy("Too many runs.", retry_after=7))

    assert (response.status_code, json.loads(response.content), response["Retry-After"]) == (
        429,
        {"detail": "Too many runs. Expected available in 7 seconds."},
        "7",
    )


class _Full(DomainError):
    http_status = 409


class _Busy(DomainError):
    http_status = 429


def test_the_schema_describes_the_error_shape(alice_client):
    schema = alice_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert schema["info"]["description"].endswith(ERRORS_DESCRIPTION)
