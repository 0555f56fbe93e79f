"""Shared DRF pieces: pagination, the error format and the exceptions services raise."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from engine import GraphInvalid


class PageNumberLimitPagination(PageNumberPagination):
    """`?page=&limit=` pagination, newest first by the caller's ordering, limit capped at 100."""

    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource changed since you loaded it."
    default_code = "conflict"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.extra = extra


class TooManyRequests(exceptions.Throttled):
    default_detail = "Too many requests."


def graph_errors_response(error: GraphInvalid) -> dict[str, Any]:
    return {
        "detail": "The workflow graph is invalid.",
        "errors": [issue.as_dict() for issue in error.issues],
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus engine validation errors as 400 with paths and conflicts with extra fields."""
    if isinstance(exc, GraphInvalid):
        return Response(graph_errors_response(exc), status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, Conflict):
        response.data.update(exc.extra)
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for pages; under /api/ the JSON error every API client expects (malformed ids too)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)
