"""GET /api/runs/{id}/events: a run's live events as server-sent events, for its owner only.

An async view (served under ASGI it holds no thread while a stream idles; under WSGI, runserver or a test
server, the stream runs on an event loop of its own in the request's thread): it authenticates with the
API's own authenticators (API token, session), replays the bus from `Last-Event-ID` (or from the start)
and then follows it live until `end` (the `end` of a run that waited for an approval and has been resumed
since is passed over: the stream goes on to the run's real end). When the bus cannot replay (trimmed,
expired, or never written: Redis restarted, a finished run from long ago) the stream starts with the run as
the database has it
(`run`, each finished `node`, the logs) and, for a finished run, `end`. Idle streams get a heartbeat
comment every RUN_EVENTS_HEARTBEAT_SECONDS, at which the run is also re-read, so that a run that ended
without its worker publishing `end` (cancelled while queued, abandoned by a dead worker) still ends.
A user holds at most RUN_EVENTS_MAX_STREAMS_PER_USER streams at once (runs/streamslots.py): one more is a
429 before anything is streamed. The streams of a process share one blocking read of the bus
(runs/eventbus_redis.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.models import User
from core.api import error_response
from core.errors import DomainError
from runs.eventbus import END, BusEvent, event_id_valid
from runs.events import end_data, node_finished_data, run_counts, run_event_bus
from runs.models import RunStatus, WorkflowRun
from runs.selectors import LOG_PAGE_SIZE, run_get, run_logs, run_node_results
from runs.streamslots import stream_slot_release, stream_slot_renew, stream_slot_take

P = ParamSpec("P")
T = TypeVar("T")

# Sent first: a client's EventSource retries this many milliseconds after a dropped connection.
RETRY_MS = 2000


def _authenticated_user(request: HttpRequest) -> User:
    """The request's user by the API's authenticators (token, session); NotAuthenticated otherwise."""
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    drf_request = Request(request, authenticators=authenticators)
    try:
        user = drf_request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
    except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed) as exc:
        exc.auth_header = authenticators[0].authenticate_header(drf_request)  # as DRF's views answer a 401
        raise
    return user


def _closing(query: Callable[P, T]) -> Callable[P, T]:
    """`query`, then this thread's database connection closed: a stream is open for minutes, and each one
    holding a connection would use up PostgreSQL's (100 by default) long before 500 streams."""

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return query(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:  # a test's transaction, say: closing would abort it
                connection.close()

    return run


def _requested_run(request: HttpRequest, run_id: uuid.UUID) -> WorkflowRun:
    """The user's run (run_get: anyone else's is a 404)."""
    return run_get(owner=_authenticated_user(request), run_id=run_id)


def _last_event_id(request: HttpRequest) -> str | None:
    last_id = request.headers.get("Last-Event-ID") or None
    if last_id is not None and not event_id_valid(last_id):
        message = 'an event id looks like "1700000000000-0" (two numbers of at most 64 bits)'
        raise exceptions.ValidationError({"Last-Event-ID": [message]})
    return last_id


async def run_events(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return error_response(exceptions.MethodNotAllowed(request.method))
    try:
        run = await sync_to_async(_closing(_requested_run))(request, run_id)
        last_id = _last_event_id(request)
        slot = await sync_to_async(stream_slot_take)(user_id=run.owner_id)
    except (DomainError, exceptions.APIException) as exc:
        return error_response(exc)
    stream = run_event_stream(run, after=last_id, slot=slot)
    # Django would collect an async iterator to the end under WSGI; this streams it instead.
    content = stream if isinstance(request, ASGIRequest) else _on_own_loop(stream)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _on_own_loop(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(stream))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(stream.aclose())  # type: ignore[attr-defined]
        loop.run_until_complete(run_event_bus().release())
        loop.close()


def sse(event: BusEvent | None = None, *, type: str = "", data: Any = None, id: str | None = None) -> bytes:
    """One server-sent event (its data is one line of JSON)."""
    if event is not None:
        type, data, id = event.type, event.data, event.id
    lines = [f"event: {type}"]
    if id is not None:
        lines.append(f"id: {id}")
    lines.append(f"data: {json.dumps(data, cls=DjangoJSONEncoder, separators=(',', ':'))}")
    return ("\n".join(lines) + "\n\n").encode()


async def run_event_stream(run: WorkflowRun, *, after: str | None, slot: str) -> AsyncIterator[bytes]:
    """The stream's bytes; it renews its slot among the owner's streams as it runs and gives it back when it
    ends, however it ends (`end`, the client gone, an error)."""
    heartbeat_s = settings.RUN_EVENTS_HEARTBEAT_SECONDS
    renewed_at = time.monotonic()
    try:
        async with aclosing(_events(run, after=after)) as events:
            async for chunk in events:
                yield chunk
                if time.monotonic() - renewed_at >= heartbeat_s:
                    await sync_to_async(stream_slot_renew)(user_id=run.owner_id, slot=slot)
                    renewed_at = time.monotonic()
    finally:
        await sync_to_async(stream_slot_release)(user_id=run.owner_id, slot=slot)


async def _events(run: WorkflowRun, *, after: str | None) -> AsyncIterator[bytes]:
    bus = run_event_bus()
    run_id = str(run.id)
    heartbeat_s = settings.RUN_EVENTS_HEARTBEAT_SECONDS
    yield f"retry: {RETRY_MS}\n\n".encode()
    first = await bus.read(run_id, after=after)
    if first.gap or (not first.events and run.is_finished):
        # The bus cannot replay this run: start from the database, then follow the bus from now on.
        after = await bus.last_id(run_id)
        snapshot = await sync_to_async(_closing(_snapshot))(run.pk)
        for index, (type, data) in enumerate(snapshot):
            last = index == len(snapshot) - 1
            yield sse(type=type, data=data, id=after if last else None)
        if snapshot[-1][0] == END:
            return
        first = await bus.read(run_id, after=after)
    events = first.events
    async with bus.follow(run_id, after=events[-1].id if events else after) as follow:
        while True:
            for index, event in enumerate(events):
                if event.type == END and event.data.get("status") == RunStatus.WAITING:
                    # The run waited, and then a decision resumed it: its stream goes on to its real end.
                    resumed = index < len(events) - 1 or not await sync_to_async(_closing(_waits))(run.pk)
                    if resumed:
                        after = event.id
                        continue
                yield sse(event)
                if event.type == END:
                    return
                after = event.id
            events = await follow.next(block_s=heartbeat_s)
            if not events:
                yield b": heartbeat\n\n"
                ended = await sync_to_async(_closing(_ended))(run.pk)
                if ended is not None:
                    # Ended without an `end` on the bus (or published before our read window): say so.
                    events = await follow.next(block_s=0) or [BusEvent(after or "0-0", END, ended)]


def _waits(run_pk: uuid.UUID) -> bool:
    return WorkflowRun.objects.filter(pk=run_pk, status=RunStatus.WAITING).exists()


def _ended(run_pk: uuid.UUID) -> dict[str, Any] | None:
    run = WorkflowRun.objects.get(pk=run_pk)
    return end_data(run) if run.is_finished else None


def _snapshot(run_pk: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """The run as the database has it, as the events a live reader would have seen."""
    run = WorkflowRun.objects.get(pk=run_pk)
    events: list[tuple[str, dict[str, Any]]] = [("run", run_counts(run))]
    events += [("node", node_finished_data(result)) for result in run_node_results(run=run)]
    for log in run_logs(run=run)[:LOG_PAGE_SIZE]:
        events.append(("log", {"nodeId": log.node_id, "level": log.level, "message": log.message}))
    if run.is_finished:
        events.append((END, end_data(run)))
    return events
