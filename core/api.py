"""Shared DRF pieces: the API's one error shape (and its schema), and the one place that turns every error,
domain errors (core.errors) included, into it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.defaults import page_not_found, server_error
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.errors import DomainError, errors_summary
from engine import GraphInvalid, InputsInvalid


class FirstRendererNegotiation(BaseContentNegotiation):
    """The view's first renderer and parser whatever the Accept header says: for a download link or an
    image, which a browser requests asking for HTML."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser | None:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class FieldErrorSerializer(serializers.Serializer):
    path = serializers.CharField(
        help_text='Where the problem is: a field ("name"), an item ("nodeIds[2]"), a place in the graph '
        '("nodes[3].data.temperature"), or "body" for the request as a whole.'
    )
    message = serializers.CharField()


class BadRequestSerializer(serializers.Serializer):
    """Every 400 of the API: a one-line summary and each problem with its path."""

    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)


def bad_request(description: str) -> OpenApiResponse:
    """The documented 400 of an operation: the shared body, with what makes the input invalid there."""
    return OpenApiResponse(BadRequestSerializer, description=description)


_AUTHENTICATION_ERRORS = {
    "401": "Not authenticated (no or an unknown bearer token, no session).",
    "403": "Forbidden (for example a session without its CSRF token).",
}
_DETAIL_ONLY = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}


_UNSUPPORTED_MEDIA_TYPE = "The body is not in a media type the operation accepts (see its request body)."


# The error shape, once, for people reading the schema (appended to the API's description).
ERRORS_DESCRIPTION = """

## Errors

Every error answers the same JSON body: `detail`, one line a person can read (for several problems, the first
and how many more); `errors`, each problem with its `path` (a field, `nodes[3].data.temperature`, a header, or
`body` for the request as a whole), always on a 400 and wherever a problem has a place; a few answers add
fields of their own (a 409 on a stale save adds `currentVersion`, on a finished run `status`); and on a 5xx
`requestId`, to quote when reporting it. A 429 says in `Retry-After` how many seconds to wait."""


def document_common_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the error shape in the API's description, and every operation that
    needs authentication documents its 401 and 403, and every operation that takes a body its 415 (each
    `{detail}`), so no view has to list them."""
    info = result.setdefault("info", {})
    info["description"] = info.get("description", "") + ERRORS_DESCRIPTION
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            errors = {} if {} in operation.get("security", [{}]) else dict(_AUTHENTICATION_ERRORS)
            if "requestBody" in operation:
                errors["415"] = _UNSUPPORTED_MEDIA_TYPE
            for code, description in errors.items():
                operation["responses"].setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": _DETAIL_ONLY}}},
                )
    return result


def error_body(
    *,
    status_code: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """The API's one error body: `{detail, errors?}`, then any extra fields, and on a 5xx the `requestId` of
    `request` (core.middleware's, which its logs carry)."""
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    if status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        body["requestId"] = getattr(request, "request_id", None)
    return body


def error_paths(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested serializer errors as [{"path": "nodeIds[0]", "message": ...}].

    Dict keys become dotted fields, list positions (and ListField's integer keys) become [i], and
    non_field_errors belong to the object that holds them ("body" at the top).
    """
    if isinstance(errors, dict):
        found: list[dict[str, str]] = []
        for name, value in errors.items():
            if name == "non_field_errors":
                path = prefix
            elif isinstance(name, int):
                path = f"{prefix}[{name}]"
            else:
                path = f"{prefix}.{name}" if prefix else str(name)
            found += error_paths(value, path)
        return found
    if isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            return [{"path": prefix or "body", "message": str(item)} for item in errors]
        found = []
        for i, item in enumerate(errors):
            if item:
                found += error_paths(item, f"{prefix}[{i}]")
        return found
    return [{"path": prefix or "body", "message": str(errors)}]


def _has_error_paths(data: Any) -> bool:
    return isinstance(data, dict) and "errors" in data


def _domain_error_response(exc: DomainError) -> Response:
    detail, headers = exc.message, {}
    if exc.retry_after is not None:
        # DRF's wording for a throttled request ("... Expected available in 5 seconds."): every 429 has it.
        detail = str(exceptions.Throttled(wait=exc.retry_after, detail=exc.message).detail)
        headers["Retry-After"] = str(exc.retry_after)
    errors = exc.errors
    if errors is None and exc.http_status == status.HTTP_400_BAD_REQUEST:
        errors = [{"path": "body", "message": exc.message}]
    body = error_body(status_code=exc.http_status, detail=detail, errors=errors, extra=exc.extra)
    return Response(body, status=exc.http_status, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The one place an error becomes an answer: domain errors by their status, engine graph and input errors
    as 400s with paths, and DRF's own errors (field errors as `{detail, errors: [{path, message}]}`), all in
    the API's one error body."""
    if isinstance(exc, DomainError):
        set_rollback()
        return _domain_error_response(exc)
    if isinstance(exc, GraphInvalid):
        errors = [issue.as_dict() for issue in exc.issues]
        return Response(
            error_body(status_code=400, detail="The workflow graph is invalid.", errors=errors),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, InputsInvalid):
        errors = [issue.as_dict() for issue in exc.issues]
        return Response(
            error_body(status_code=400, detail=errors_summary(errors), errors=errors),
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = error_paths(exc.detail)
        response.data = error_body(status_code=400, detail=errors_summary(errors), errors=errors)
    elif response.status_code == status.HTTP_400_BAD_REQUEST and not _has_error_paths(response.data):
        # A body that is not even JSON (ParseError): the problem is the whole body.
        detail = str(getattr(exc, "detail", "The request is invalid."))
        response.data = error_body(
            status_code=400, detail=detail, errors=[{"path": "body", "message": detail}]
        )
    elif response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        detail = str(getattr(exc, "detail", "Internal server error; it has been logged."))
        response.data = error_body(
            status_code=response.status_code, detail=detail, request=context.get("request")
        )
    return response


def error_response(exc: Exception) -> JsonResponse:
    """The API's answer to `exc` for a view outside DRF (a webhook call, an event stream): the same handler,
    body and headers. For the errors the handler answers: domain, engine and DRF errors, Http404."""
    answer = exception_handler(exc, {})
    if answer is None:
        raise exc
    response = JsonResponse(answer.data, status=answer.status_code)
    for header in ("WWW-Authenticate", "Retry-After"):
        if header in answer:
            response[header] = answer[header]
    return response


def bad_request_error(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (a SuspiciousOperation: too many fields, a Host not allowed) for pages; under /api/ the
    API's one error shape."""
    if request.path.startswith("/api/"):
        detail = str(exception) or "The request is invalid."
        return JsonResponse(
            error_body(status_code=400, detail=detail, errors=[{"path": "body", "message": detail}]),
            status=status.HTTP_400_BAD_REQUEST,
        )
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for pages; under /api/ and /hooks/ the JSON error every API client expects (malformed ids
    too)."""
    if request.path.startswith(("/api/", "/hooks/")):
        return JsonResponse(
            error_body(status_code=404, detail="Not found."), status=status.HTTP_404_NOT_FOUND
        )
    return page_not_found(request, exception)


def internal_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page for pages; under /api/ a JSON error (a dependency down, say), never HTML."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(status_code=500, detail="Internal server error; it has been logged.", request=request),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return server_error(request)
