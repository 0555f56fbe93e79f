"""GET /api/health: are the database and the cache reachable, and can runs execute (a broker that answers,
or a live in-process worker)? With read replicas, how far each lags. No authentication."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable

import pika
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.replicas import describe_replicas
from runs.worker import inprocess_worker_alive

logger = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 2


class InProcessWorkerDown(Exception):
    """No broker is configured and no in-process worker is running: queued runs would never execute."""


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache() -> str:
    # A unique key that expires by itself, added only if absent: the cache confirming that it stored it is one
    # round trip (a write then a read was two), and nothing is left to delete.
    if cache.add(f"health:{uuid.uuid4().hex}", "1", timeout=5) is not True:
        raise RuntimeError("the cache did not store what was written")
    return "ok"


@functools.lru_cache(maxsize=4)
def _redis_broker_client(url: str) -> redis.Redis:
    # One pooled client per process: a new connection per health request cost more than the ping.
    # Blocking, like the cache's pool: a burst of health checks waits for a connection rather than failing.
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=settings.REDIS_MAX_CONNECTIONS,
        timeout=settings.REDIS_POOL_TIMEOUT_SECONDS,
        socket_connect_timeout=_TIMEOUT_SECONDS,
        socket_timeout=_TIMEOUT_SECONDS,
    )
    return redis.Redis(connection_pool=pool)


def check_broker() -> str:
    url = settings.DRAMATIQ_BROKER_URL
    if not url:
        if not inprocess_worker_alive():
            raise InProcessWorkerDown("no broker URL and no live in-process worker thread")
        return "ok (in-process)"
    if url.startswith(("amqp://", "amqps://")):
        parameters = pika.URLParameters(url)
        parameters.connection_attempts = 1
        parameters.socket_timeout = _TIMEOUT_SECONDS
        parameters.blocked_connection_timeout = _TIMEOUT_SECONDS
        pika.BlockingConnection(parameters).close()
        return "ok"
    _redis_broker_client(url).ping()
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}
# Reported, never failing: reads fall back to the primary while a replica lags or is down.
if settings.DATABASE_REPLICA_URLS:
    CHECKS["replicas"] = describe_replicas

_health_response = inline_serializer(
    "Health",
    fields={"status": serializers.ChoiceField(["ok", "error"]), "checks": serializers.DictField()},
)


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Service health",
        responses={
            200: _health_response,
            503: OpenApiResponse(_health_response, description="Something failed"),
        },
    )
    def get(self, request: Request) -> Response:
        results: dict[str, str] = {}
        healthy = True
        for name, check in CHECKS.items():
            try:
                results[name] = check()
            except Exception as exc:
                healthy = False
                results[name] = f"error: {type(exc).__name__}"
                logger.warning("health check %s failed: %s", name, exc)
        return Response(
            {"status": "ok" if healthy else "error", "checks": results},
            status=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )
