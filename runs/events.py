"""The live event bus of runs: workers publish each run's events, stream readers read them since an id.

Two implementations of one interface: Redis Streams when REDIS_URL is set (one stream per run, at most
RUN_EVENTS_MAXLEN entries, expiring RUN_EVENTS_TTL_SECONDS after the run ends, so that a reconnecting
client can replay what it missed), and an in-process memory bus for the in-process worker without Redis.
The database stays the record of truth: a reader that finds the bus trimmed or expired falls back to it
(see runs/stream.py). Event ids are "<n>-<m>" strings (Redis stream ids), increasing within a run.

`RunEventPublisher` turns the engine's events (as runs.persistence has written them) into bus events:
`run` (status and counts), `node` (started; finished with the result as the run detail shows it), `log`,
`token` (a text delta of a running LLM/Vision node), `reset` (forget that node's text) and `end`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
import redis.asyncio
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

import engine
from runs.models import NodeResult, WorkflowRun
from runs.serializers import NodeResultSerializer

logger = logging.getLogger(__name__)

_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
# Each half of a Redis stream id is an unsigned 64-bit number; Redis refuses anything larger.
EVENT_ID_PART_MAX = 2**64 - 1
END = "end"


@dataclass(frozen=True)
class BusEvent:
    id: str
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class BusRead:
    """Events after the id asked for; `gap` says that some of them were trimmed away (or expired)."""

    events: list[BusEvent]
    gap: bool = False


def event_id_valid(text: str) -> bool:
    """Whether `text` is an event id the bus can read after ("<n>-<m>", both within 64 bits)."""
    return _EVENT_ID.match(text) is not None and max(id_key(text)) <= EVENT_ID_PART_MAX


def id_key(event_id: str) -> tuple[int, int]:
    first, _, second = event_id.partition("-")
    return int(first), int(second or 0)


class RunEventBus(Protocol):
    def publish(self, run_id: str, type: str, data: dict[str, Any]) -> str:
        """Append an event to the run's stream (from any thread); its id."""
        ...

    def close(self, run_id: str) -> None:
        """The run has ended: keep its stream RUN_EVENTS_TTL_SECONDS longer, then drop it."""
        ...

    async def read(self, run_id: str, *, after: str | None, block_s: float) -> BusRead:
        """The events after `after` (None: from the start), waiting up to `block_s` for the first."""
        ...

    async def last_id(self, run_id: str) -> str | None: ...

    async def release(self) -> None:
        """Let go of what this event loop holds (its connections) before the loop is closed."""
        ...


def _encode(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))


# Redis Streams ------------------------------------------------------------------------------


class RedisRunEventBus:
    """One Redis stream per run. Writes are synchronous (worker threads), reads asynchronous (the stream
    view), with one asyncio client per event loop (a client cannot be shared between loops)."""

    def __init__(
        self, url: str, *, maxlen: int, ttl_s: int, active_ttl_s: int, longest_read_s: float
    ) -> None:
        self.url = url
        # redis-py gives up on a reply after 5 s by default; a blocking read waits up to longest_read_s.
        self.read_timeout_s = longest_read_s + 5
        self.maxlen = maxlen
        self.ttl_s = ttl_s
        # A run whose worker dies never closes its stream; it still expires, this long after its last event.
        self.active_ttl_s = active_ttl_s
        self._sync = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )

    @staticmethod
    def key(run_id: str) -> str:
        return f"weft:run-events:{run_id}"

    def publish(self, run_id: str, type: str, data: dict[str, Any]) -> str:
        key = self.key(run_id)
        pipe = self._sync.pipeline(transaction=False)
        pipe.xadd(key, {"type": type, "data": _encode(data)}, maxlen=self.maxlen, approximate=True)
        pipe.expire(key, self.active_ttl_s)
        event_id, _ = pipe.execute()
        return event_id.decode()

    def close(self, run_id: str) -> None:
        self._sync.expire(self.key(run_id), self.ttl_s)

    def _client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = redis.asyncio.Redis.from_url(self.url, socket_timeout=self.read_timeout_s)
            self._async[loop] = client
        return client

    async def read(self, run_id: str, *, after: str | None, block_s: float) -> BusRead:
        client, key = self._client(), self.key(run_id)
        gap = False
        if block_s <= 0:
            # A first look: was anything after `after` trimmed away (or has the stream expired)?
            try:
                info = await client.xinfo_stream(key)
            except redis.ResponseError:  # no such stream (not started, or expired)
                return BusRead([], gap=after is not None)
            first = info["first-entry"][0].decode() if info.get("first-entry") else None
            trimmed = info["entries-added"] > info["length"]
            gap = trimmed and first is not None and (after is None or id_key(after) < id_key(first))
        if block_s > 0:
            reply = await client.xread({key: after or "0-0"}, block=max(1, int(block_s * 1000)), count=1000)
            entries = reply[0][1] if reply else []
        elif after is not None and id_key(after) == (EVENT_ID_PART_MAX, EVENT_ID_PART_MAX):
            entries = []  # nothing can follow the largest id, and Redis refuses a range that starts after it
        else:
            entries = await client.xrange(key, min=f"({after}" if after else "-", count=10_000)
        return BusRead([_from_redis(entry_id, fields) for entry_id, fields in entries], gap=gap)

    async def last_id(self, run_id: str) -> str | None:
        entries = await self._client().xrevrange(self.key(run_id), count=1)
        return entries[0][0].decode() if entries else None

    async def release(self) -> None:
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def _from_redis(entry_id: bytes, fields: dict[bytes, bytes]) -> BusEvent:
    return BusEvent(entry_id.decode(), fields[b"type"].decode(), json.loads(fields[b"data"]))


# In memory ----------------------------------------------------------------------------------


@dataclass
class _MemoryStream:
    events: deque[BusEvent]
    added: int = 0
    expires_at: float | None = None
    waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)


class MemoryRunEventBus:
    """The same bus inside one process (the in-process worker without Redis). Thread-safe; readers on
    any event loop are woken by `call_soon_threadsafe`."""

    def __init__(self, *, maxlen: int, ttl_s: int) -> None:
        self.maxlen = maxlen
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._runs: dict[str, _MemoryStream] = {}

    def _stream(self, run_id: str) -> _MemoryStream:
        stream = self._runs.get(run_id)
        if stream is None:
            stream = self._runs[run_id] = _MemoryStream(deque(maxlen=self.maxlen))
        return stream

    def publish(self, run_id: str, type: str, data: dict[str, Any]) -> str:
        # Round-tripped through JSON like the Redis bus, so both hand readers the same values.
        data = json.loads(_encode(data))
        with self._lock:
            self._forget_expired()
            stream = self._stream(run_id)
            stream.added += 1
            event = BusEvent(f"{stream.added}-0", type, data)
            stream.events.append(event)
            waiters = list(stream.waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)
        return event.id

    def close(self, run_id: str) -> None:
        with self._lock:
            if run_id in self._runs:
                self._runs[run_id].expires_at = time.monotonic() + self.ttl_s

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for run_id in [r for r, s in self._runs.items() if s.expires_at is not None and s.expires_at < now]:
            del self._runs[run_id]

    def _since(self, run_id: str, after: str | None) -> BusRead:
        with self._lock:
            stream = self._runs.get(run_id)
            if stream is None:
                return BusRead([], gap=after is not None)
            start = 0 if after is None else id_key(after)[0]
            first = stream.added - len(stream.events) + 1  # the number of the oldest event kept
            events = [e for e in stream.events if id_key(e.id)[0] > start]
            return BusRead(events, gap=first > start + 1)

    async def read(self, run_id: str, *, after: str | None, block_s: float) -> BusRead:
        result = self._since(run_id, after)
        if result.events or block_s <= 0:
            return result
        ready = asyncio.Event()
        waiter = (asyncio.get_running_loop(), ready)
        with self._lock:
            self._stream(run_id).waiters.add(waiter)
        try:
            result = self._since(run_id, after)  # published between the first look and registering
            if not result.events:
                try:
                    await asyncio.wait_for(ready.wait(), block_s)
                except TimeoutError:
                    return result
                result = self._since(run_id, after)
        finally:
            with self._lock:
                stream = self._runs.get(run_id)
                if stream is not None:
                    stream.waiters.discard(waiter)
        return result

    async def release(self) -> None:
        pass  # holds nothing per event loop

    async def last_id(self, run_id: str) -> str | None:
        with self._lock:
            stream = self._runs.get(run_id)
            return stream.events[-1].id if stream and stream.events else None


_buses: dict[str, RunEventBus] = {}
_buses_lock = threading.Lock()


def run_event_bus() -> RunEventBus:
    """The process's bus: Redis Streams with REDIS_URL, otherwise the in-memory one."""
    url = settings.REDIS_URL or ""
    with _buses_lock:
        bus = _buses.get(url)
        if bus is None:
            if url:
                active_ttl = int(settings.RUN_TIMEOUT_SECONDS) + settings.RUN_EVENTS_TTL_SECONDS
                bus = RedisRunEventBus(
                    url,
                    maxlen=settings.RUN_EVENTS_MAXLEN,
                    ttl_s=settings.RUN_EVENTS_TTL_SECONDS,
                    active_ttl_s=active_ttl,
                    longest_read_s=settings.RUN_EVENTS_HEARTBEAT_SECONDS,
                )
            else:
                bus = MemoryRunEventBus(
                    maxlen=settings.RUN_EVENTS_MAXLEN, ttl_s=settings.RUN_EVENTS_TTL_SECONDS
                )
            _buses[url] = bus
        return bus


# Publishing a run's events ------------------------------------------------------------------


def run_counts(run: WorkflowRun) -> dict[str, Any]:
    return {
        "status": run.status,
        "totalNodes": run.total_nodes,
        "succeededNodes": run.succeeded_nodes,
        "failedNodes": run.failed_nodes,
        "skippedNodes": run.skipped_nodes,
        "reusedNodes": run.reused_nodes,
    }


def node_finished_data(result: NodeResult) -> dict[str, Any]:
    return {"state": "finished", "nodeId": result.node_id, "result": dict(NodeResultSerializer(result).data)}


def end_data(run: WorkflowRun) -> dict[str, Any]:
    return {**run_counts(run), "durationMs": run.duration_ms, "errorSummary": run.error_summary}


class RunEventPublisher:
    """Publishes one run's events. A bus that is down costs the live view, never the run: failures are
    logged (once per run) and the run goes on; readers fall back to the database."""

    def __init__(self, *, run: WorkflowRun, bus: RunEventBus | None = None) -> None:
        self.run = run
        self.run_id = str(run.id)
        self.bus = bus or run_event_bus()
        self._warned = False

    def publish(self, type: str, data: dict[str, Any]) -> None:
        try:
            self.bus.publish(self.run_id, type, data)
        except (redis.RedisError, OSError) as exc:
            if not self._warned:
                logger.warning("run %s: live events not published (%s)", self.run_id, exc)
                self._warned = True

    def engine_event(self, event: engine.Event, *, result: NodeResult | None = None) -> None:
        """`result` is the model row written for a NodeFinished event."""
        if isinstance(event, engine.RunStarted):
            self.publish("run", run_counts(self.run) | {"status": "running"})
        elif isinstance(event, engine.NodeStarted):
            data = {"state": "started", "nodeId": event.node_id, "nodeType": event.node_type}
            self.publish("node", data | {"startedAt": event.started_at})
        elif isinstance(event, engine.NodeToken):
            self.publish("token", {"nodeId": event.node_id, "text": event.text})
        elif isinstance(event, engine.NodeTokensReset):
            self.publish("reset", {"nodeId": event.node_id})
        elif isinstance(event, engine.NodeFinished) and result is not None:
            self.publish("node", node_finished_data(result))
            self.publish("run", run_counts(self.run) | {"status": "running"})
        elif isinstance(event, engine.LogLine):
            self.publish("log", {"nodeId": event.node_id, "level": event.level, "message": event.message})

    def end(self, run: WorkflowRun) -> None:
        self.publish(END, end_data(run))
        # If this fails the stream still expires on its own (active_ttl_s).
        with contextlib.suppress(redis.RedisError, OSError):
            self.bus.close(self.run_id)
