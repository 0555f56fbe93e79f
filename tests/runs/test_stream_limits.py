"""300 live event streams of two users on the project's ASGI application, driven in-process, on Redis: the
per-user cap answers 429 for the streams over it before anything is streamed, no stream is cut, every other
stream gets its run's events to `end`, and the streams hold a bounded number of Redis connections."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from django.db import connection

from accounts.models import User
from accounts.services import api_token_create
from runs.driving import run_execute
from runs.eventbus_redis import CLIENT_NAME, SHORT_COMMAND_CONNECTIONS
from runs.events import run_event_bus
from runs.services import run_create
from tests.graphs import edge, node
from tests.sse import read_events
from workflowsite.asgi import application

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CAP = 120
# Alice asks for 180 streams and Bob for 120, interleaved: Alice's last 60 are over the cap.
ASKING = ["alice", "alice", "alice", "bob", "bob"] * 60
# Streams opened together, as browsers arrive: the queries of each opening hold a database connection.
BATCH = 20
WORDS = 30


@dataclass
class Answer:
    """What the application sent for one request, message by message."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False  # the last body message came (a cut stream never sends it)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def events(self) -> list[tuple[str | None, str, Any]]:
        response = httpx.Response(self.status or 0, content=bytes(self.body))
        return [(event.id, event.type, event.data) for event in read_events(response)]


async def get(path: str, token: str, answer: Answer) -> None:
    """One GET through the ASGI application, as a server would drive it."""
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
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 40000),
    }
    finished = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {name.decode().lower(): value.decode() for name, value in message["headers"]}
            answer.started.set()
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")
            if not message.get("more_body", False):
                answer.complete = True
                finished.set()

    await application(scope, receive, send)


def stream_clients(watcher: redis.Redis) -> int:
    return sum(1 for client in watcher.client_list() if client.get("name") == CLIENT_NAME)


def sample_until(done: threading.Event, measure: Callable[[], int], found: list[int]) -> None:
    """`measure()` every 20 ms until `done` is set."""
    while not done.wait(0.02):
        found.append(measure())


def execute(run_id: str) -> None:
    try:
        run_execute(run_id=run_id)
    finally:
        connection.close()


def test_300_streams_of_two_users_none_cut_the_cap_answered_and_redis_connections_bounded(
    alice: User, bob: User, llm_settings, settings
):
    settings.RUN_EVENTS_MAX_STREAMS_PER_USER = CAP
    settings.RUN_EVENTS_HEARTBEAT_SECONDS = 60  # no idle re-reads of the run while the test runs
    llm_settings.chunk_delay_s = 0.01
    graph = {
        "nodes": [node("a", "text", text=" ".join(f"w{i}" for i in range(WORDS))), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    users = {"alice": alice, "bob": bob}
    tokens = {name: api_token_create(owner=user, name="streams").secret for name, user in users.items()}
    runs = {name: run_create(owner=user, graph=graph, enqueue=False) for name, user in users.items()}
    watcher = redis.Redis.from_url(os.environ["REDIS_URL"])
    before = stream_clients(watcher)
    asked: list[tuple[str, Answer]] = [(name, Answer()) for name in ASKING]
    connections_seen: list[int] = []

    async def scenario() -> None:
        requests = []
        for start in range(0, len(asked), BATCH):
            batch = asked[start : start + BATCH]
            requests += [
                asyncio.ensure_future(get(f"/api/runs/{runs[name].id}/events", tokens[name], answer))
                for name, answer in batch
            ]
            await asyncio.wait_for(asyncio.gather(*(answer.started.wait() for _, answer in batch)), 30)
        connections_seen.append(stream_clients(watcher))  # all 300 answered, 240 of them streaming
        loop = asyncio.get_running_loop()
        runners = [loop.run_in_executor(None, execute, str(run.id)) for run in runs.values()]
        streaming_done = threading.Event()
        sampler = loop.run_in_executor(
            None, sample_until, streaming_done, lambda: stream_clients(watcher), connections_seen
        )
        try:
            await asyncio.wait_for(asyncio.gather(*requests, *runners), 120)
        finally:
            streaming_done.set()
            await sampler
        again = Answer()  # every stream gave its place back: Alice may open one again
        await asyncio.wait_for(get(f"/api/runs/{runs['alice'].id}/events", tokens["alice"], again), 30)
        asked.append(("alice", again))
        await run_event_bus().release()

    asyncio.run(scenario())

    statuses = {name: sorted(answer.status for asker, answer in asked if asker == name) for name in users}
    assert statuses == {"alice": [200] * (CAP + 1) + [429] * 60, "bob": [200] * 120}
    assert all(answer.complete for _, answer in asked)
    for name, run in runs.items():
        run.refresh_from_db()
        assert run.status == "succeeded"
        published = asyncio.run(run_event_bus().read(str(run.id), after=None)).events
        assert published[-1].type == "end"
        whole_run = [(event.id, event.type, event.data) for event in published]
        streamed = [answer.events() for asker, answer in asked if asker == name and answer.status == 200]
        assert all(events == whole_run for events in streamed), name
    refused = [answer for _, answer in asked if answer.status == 429]
    assert all(answer.headers["retry-after"] == "5" for answer in refused)
    assert all(answer.headers["content-type"] == "application/json" for answer in refused)
    assert all(b'"detail"' in answer.body for answer in refused)
    # 240 streams were open at once; the loop's reader and its short-command pool are all they used.
    assert connections_seen
    assert max(connections_seen) - before <= SHORT_COMMAND_CONNECTIONS + 1
