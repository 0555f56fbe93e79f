"""Prometheus metrics: the HTTP request histogram, and `GET /metrics`, which adds up the samples every
process wrote (prometheus_client's multiprocess mode, see core/metrics_directory.py) and the figures
collected at scrape time from the database (collectors the apps register, `scrape_collector_register`).

Only `Authorization: Bearer $METRICS_TOKEN` may scrape; without the setting the endpoint does not exist.
Labels are bounded: route templates, methods, status codes, never a path, a user or a name.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from core.api import error_body

HTTP_REQUEST_DURATION = Histogram(
    "weft_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status code.",
    ["route", "method", "status"],
)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_scrape_collectors: list[Collector] = []


def scrape_collector_register(collector: Collector) -> None:
    """Add a collector whose figures are read at scrape time (a database fact, not an event count)."""
    if collector not in _scrape_collectors:
        _scrape_collectors.append(collector)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The route template (`api/runs/<uuid:run_id>`), never the path: one series per route.
        route = match.route if match is not None and match.route else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUEST_DURATION.labels(route=route, method=method, status=str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition of every process's samples and the scrape-time collectors."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
        detail = "A valid metrics token is required."
        response = JsonResponse(error_body(status_code=401, detail=detail), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    for collector in _scrape_collectors:
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
