"""workflowsite.asgi: sync views go to Django's WSGI handler on a thread pool, async views (the live event
stream) to its ASGI handler, through the application uvicorn serves."""

import asyncio
import threading
import uuid

import pytest
from django.http import JsonResponse
from django.urls import path

from workflowsite import asgi
from workflowsite.urls import urlpatterns as site_urlpatterns


def where_it_ran(request):
    return JsonResponse({"thread": threading.current_thread().name, "wsgi": "wsgi.version" in request.META})


async def where_it_ran_async(request):
    return JsonResponse({"thread": threading.current_thread().name, "wsgi": "wsgi.version" in request.META})


urlpatterns = [
    path("probe/sync", where_it_ran),
    path("probe/async", where_it_ran_async),
    *site_urlpatterns,
]


async def _get(path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected: no http.disconnect until it leaves

    async def send(message):
        sent.append(message)

    await asgi.application(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.urls("tests.test_asgi_routing")
def test_a_sync_view_runs_under_wsgi_on_a_pool_thread_and_an_async_view_on_the_event_loop():
    status, body = asyncio.run(_get("/probe/sync"))
    assert status == 200
    assert b'"wsgi": true' in body
    assert b'"thread": "WSGI' in body  # a2wsgi's pool names its threads so

    status, body = asyncio.run(_get("/probe/async"))
    assert status == 200
    assert b'"wsgi": false' in body
    assert b'"thread": "MainThread"' in body


def test_the_event_stream_is_routed_as_async_and_unknown_paths_as_sync():
    assert asgi._is_async_view(f"/api/runs/{uuid.uuid4()}/events")
    assert not asgi._is_async_view("/api/health")
    assert not asgi._is_async_view("/no/such/page")


@pytest.mark.django_db(transaction=True)
def test_an_unknown_path_is_a_404_from_the_wsgi_side():
    status, _ = asyncio.run(_get("/no/such/page"))
    assert status == 404
