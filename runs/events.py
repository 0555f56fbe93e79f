"""The live event bus of runs: workers publish each run's events, stream readers read them since an id and
then follow them live (on Redis, all the follows of an event loop through one blocking read).

Two implementations of one interface: Redis Streams when REDIS_URL is set (one stream per run, at most
RUN_EVENTS_MAXLEN entries, expiring RUN_EVENTS_TTL_SECONDS after the run ends, so that a reconnecting
client can replay what it missed), and an in-process memory bus for the in-process worker without Redis.
The database stays the record of truth: a reader that finds the bus trimmed or expired falls back to it
(see runs/stream.py). Event ids are "<n>-<m>" strings (Redis stream ids: two unsigned 64-bit numbers),
increasing within a run.

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
import uuid
import weakref
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
import redis.asyncio
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

import engine
from runs.models import NodeResult, WorkflowRun
from runs.serializers import node_result_data

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


class EventFollow(Protocol):
    """One reader's place in a run's events."""

    async def next(self, *, block_s: float) -> list[BusEvent]:
        """The events after the last ones returned (at first: after the id the follow began at), waiting
        up to `block_s` for the first; with `block_s` 0 it looks at the bus itself, now."""
        ...


class RunEventBus(Protocol):
    def publish(self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
        """Append (type, data) events to the run's stream, in order, at once (from any thread); their ids."""
        ...

    def close(self, run_id: str) -> None:
        """The run has ended: keep its stream RUN_EVENTS_TTL_SECONDS longer, then drop it."""
        ...

    async def read(self, run_id: str, *, after: str | None) -> BusRead:
        """The events after `after` (None: from the start), as the bus has them now."""
        ...

    def follow(
        self, run_id: str, *, after: str | None
    ) -> contextlib.AbstractAsyncContextManager[EventFollow]:
        """Follow the run's events live from after `after`, until the context is left."""
        ...

    async def last_id(self, run_id: str) -> str | None: ...

    async def release(self) -> None:
        """Let go of what this event loop holds (its connections) before the loop is closed."""
        ...


def _encode(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))


# Redis Streams ------------------------------------------------------------------------------

# Connections of one event loop (one per web process under ASGI) for the short commands (XRANGE, XINFO);
# a command waits for a free one rather than failing, so the loop never holds more than these plus its reader.
SHORT_COMMAND_CONNECTIONS = 10
# How the stream clients name themselves to Redis (CLIENT LIST), so an operator can count them.
CLIENT_NAME = "weft-run-events"
# Events handed to one follow and not taken yet (a slow client): past this it drops them and re-reads.
FOLLOW_BUFFER = 1000
_WAKE_TTL_S = 60


class RedisRunEventBus:
    """One Redis stream per run. Writes are synchronous (worker threads), reads asynchronous (the stream
    view), with one set of asyncio clients per event loop (a client cannot be shared between loops)."""

    def __init__(
        self, url: str, *, maxlen: int, ttl_s: int, active_ttl_s: int, longest_read_s: float
    ) -> None:
        self.url = url
        self.longest_read_s = longest_read_s
        # redis-py gives up on a reply after 5 s by default; a blocking read waits up to longest_read_s.
        self.read_timeout_s = longest_read_s + 5
        self.maxlen = maxlen
        self.ttl_s = ttl_s
        # A run whose worker dies never closes its stream; it still expires, this long after its last event.
        self.active_ttl_s = active_ttl_s
        self._sync = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = (
            weakref.WeakKeyDictionary()
        )

    @staticmethod
    def key(run_id: str) -> str:
        return f"weft:run-events:{run_id}"

    def publish(self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
        key = self.key(run_id)
        pipe = self._sync.pipeline(transaction=False)
        for type, data in events:
            pipe.xadd(key, {"type": type, "data": _encode(data)}, maxlen=self.maxlen, approximate=True)
        pipe.expire(key, self.active_ttl_s)
        *event_ids, _ = pipe.execute()
        return [event_id.decode() for event_id in event_ids]

    def close(self, run_id: str) -> None:
        self._sync.expire(self.key(run_id), self.ttl_s)

    def _loop_clients(self) -> _LoopClients:
        loop = asyncio.get_running_loop()
        clients = self._loops.get(loop)
        if clients is None:
            clients = self._loops[loop] = _LoopClients(self)
        return clients

    def _client(self) -> redis.asyncio.Redis:
        return self._loop_clients().short

    async def read(self, run_id: str, *, after: str | None) -> BusRead:
        client, key = self._client(), self.key(run_id)
        # Was anything after `after` trimmed away (or has the stream expired)?
        try:
            info = await client.xinfo_stream(key)
        except redis.ResponseError:  # no such stream (not started, or expired)
            return BusRead([], gap=after is not None)
        first = info["first-entry"][0].decode() if info.get("first-entry") else None
        trimmed = info["entries-added"] > info["length"]
        gap = trimmed and first is not None and (after is None or id_key(after) < id_key(first))
        return BusRead(await self.range_after(run_id, after), gap=gap)

    async def range_after(self, run_id: str, after: str | None) -> list[BusEvent]:
        if after is not None and id_key(after) == (EVENT_ID_PART_MAX, EVENT_ID_PART_MAX):
            return []  # nothing can follow the largest id, and Redis refuses a range that starts after it
        entries = await self._client().xrange(
            self.key(run_id), min=f"({after}" if after else "-", count=10_000
        )
        return [_from_redis(entry_id, fields) for entry_id, fields in entries]

    @contextlib.asynccontextmanager
    async def follow(self, run_id: str, *, after: str | None) -> AsyncIterator[EventFollow]:
        reader = self._loop_clients().reader
        follow = _RedisFollow(self, run_id, after)
        await reader.add(follow)
        try:
            yield follow
        finally:
            reader.remove(follow)

    async def last_id(self, run_id: str) -> str | None:
        entries = await self._client().xrevrange(self.key(run_id), count=1)
        return entries[0][0].decode() if entries else None

    async def release(self) -> None:
        clients = self._loops.pop(asyncio.get_running_loop(), None)
        if clients is not None:
            await clients.close()


class _LoopClients:
    """What one event loop holds: a bounded pool for short commands and the loop's one run reader."""

    def __init__(self, bus: RedisRunEventBus) -> None:
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            bus.url, max_connections=SHORT_COMMAND_CONNECTIONS, socket_timeout=5, client_name=CLIENT_NAME
        )
        self.short = redis.asyncio.Redis.from_pool(pool)
        self.reader = _RunReader(bus, self.short)

    async def close(self) -> None:
        await self.reader.close()
        await self.short.aclose()


class _RedisFollow:
    """A follow fed by its loop's `_RunReader`; when it has fallen behind (it joined a run the reader was
    already past, its buffer overflowed, the reader failed) it catches up with one XRANGE."""

    def __init__(self, bus: RedisRunEventBus, run_id: str, after: str | None) -> None:
        self._bus = bus
        self.run_id = run_id
        self.key = bus.key(run_id)
        self.after = after
        self.behind = False
        self._pending: list[BusEvent] = []
        self._arrived = asyncio.Event()

    def deliver(self, events: list[BusEvent]) -> None:
        if len(self._pending) + len(events) > FOLLOW_BUFFER:
            self.fall_behind()
            return
        self._pending += events
        self._arrived.set()

    def fall_behind(self) -> None:
        self._pending = []
        self.behind = True
        self._arrived.set()

    def _after_cursor(self, events: list[BusEvent]) -> list[BusEvent]:
        """`events` newer than the last one returned, each once (a catch-up and the reader can overlap)."""
        fresh = []
        for event in events:
            if self.after is None or id_key(event.id) > id_key(self.after):
                fresh.append(event)
                self.after = event.id
        return fresh

    async def next(self, *, block_s: float) -> list[BusEvent]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + block_s
        if block_s <= 0:
            self.behind = True
        while True:
            if self.behind:
                self.behind = False
                self._pending = []
                caught_up = await self._bus.range_after(self.run_id, self.after)
                events, self._pending = caught_up + self._pending, []  # what the reader handed over meanwhile
            else:
                events, self._pending = self._pending, []
            fresh = self._after_cursor(events)
            remaining = deadline - loop.time()
            if fresh or remaining <= 0:
                return fresh
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)


class _RunReader:
    """The one blocking XREAD of an event loop, over every run that a follow on the loop follows; it hands
    each follow its run's events. So N streams cost one Redis connection however many runs they follow (a
    blocking read per stream used up redis-py's pool of 100 connections a process, failing other users'
    streams). A follow of a run not yet read wakes the XREAD by adding to a stream of the reader's own."""

    def __init__(self, bus: RedisRunEventBus, short: redis.asyncio.Redis) -> None:
        self._bus = bus
        self._short = short
        self._blocking: redis.asyncio.Redis | None = None
        self._wake_key = f"weft:run-events-wake:{uuid.uuid4().hex}"
        self._wake_after = "0-0"
        self._positions: dict[str, str] = {}  # run stream key: the id of the last event read
        self._follows: dict[str, set[_RedisFollow]] = {}
        self._task: asyncio.Task[None] | None = None

    async def add(self, follow: _RedisFollow) -> None:
        start = follow.after or "0-0"
        position = self._positions.get(follow.key)
        if position is not None and id_key(position) > id_key(start):
            follow.behind = True  # the reader handed out events after `start` before this follow joined
        if position is None:
            self._positions[follow.key] = start
        self._follows.setdefault(follow.key, set()).add(follow)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._read())
        elif position is None:
            await self._wake()

    def remove(self, follow: _RedisFollow) -> None:
        follows = self._follows.get(follow.key, set())
        follows.discard(follow)
        if not follows:
            self._follows.pop(follow.key, None)
            self._positions.pop(follow.key, None)

    async def _wake(self) -> None:
        pipe = self._short.pipeline(transaction=False)
        pipe.xadd(self._wake_key, {"runs": len(self._positions)}, maxlen=1)
        pipe.expire(self._wake_key, _WAKE_TTL_S)
        await pipe.execute()

    async def _read(self) -> None:
        if self._blocking is None:
            self._blocking = redis.asyncio.Redis.from_url(
                self._bus.url,
                socket_timeout=self._bus.read_timeout_s,
                single_connection_client=True,
                client_name=CLIENT_NAME,
            )
        block_ms = max(1, int(self._bus.longest_read_s * 1000))
        while self._follows:
            streams = {self._wake_key: self._wake_after, **self._positions}
            try:
                reply = await self._blocking.xread(streams, block=block_ms, count=FOLLOW_BUFFER)
            except Exception:  # Redis down, say: the streams re-read, and the reader tries again
                logger.exception("live events: the run reader failed")
                for follows in self._follows.values():
                    for follow in follows:
                        follow.fall_behind()
                await asyncio.sleep(1)  # a Redis that is down is not asked again at once
                continue
            for raw_key, entries in reply:
                key = raw_key.decode()
                if key == self._wake_key:
                    self._wake_after = entries[-1][0].decode()
                elif key in self._positions:
                    events = [_from_redis(entry_id, fields) for entry_id, fields in entries]
                    self._positions[key] = events[-1].id
                    for follow in self._follows[key]:
                        follow.deliver(events)

    async def close(self) -> None:
        """Stop reading. The XREAD is woken rather than cancelled: redis-py retries a connection handshake
        that a cancellation interrupts, and the read then blocks for its whole time."""
        self._follows.clear()
        self._positions.clear()
        if self._task is not None and not self._task.done():
            with contextlib.suppress(redis.RedisError, OSError):
                await self._wake()
            await asyncio.wait({self._task}, timeout=self._bus.read_timeout_s)
        if self._blocking is not None:
            await self._blocking.aclose()


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

    def publish(self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
        # Round-tripped through JSON like the Redis bus, so both hand readers the same values.
        decoded = [(type, json.loads(_encode(data))) for type, data in events]
        ids = []
        with self._lock:
            self._forget_expired()
            stream = self._stream(run_id)
            for type, data in decoded:
                stream.added += 1
                stream.events.append(BusEvent(f"{stream.added}-0", type, data))
                ids.append(f"{stream.added}-0")
            waiters = list(stream.waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)
        return ids

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

    async def read(self, run_id: str, *, after: str | None) -> BusRead:
        return self._since(run_id, after)

    @contextlib.asynccontextmanager
    async def follow(self, run_id: str, *, after: str | None) -> AsyncIterator[EventFollow]:
        yield _MemoryFollow(self, run_id, after)

    async def wait(self, run_id: str, *, after: str | None, block_s: float) -> list[BusEvent]:
        """The events after `after`, waiting up to `block_s` for the first."""
        result = self._since(run_id, after)
        if result.events or block_s <= 0:
            return result.events
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
                    return result.events
                result = self._since(run_id, after)
        finally:
            with self._lock:
                stream = self._runs.get(run_id)
                if stream is not None:
                    stream.waiters.discard(waiter)
        return result.events

    async def release(self) -> None:
        pass  # holds nothing per event loop

    async def last_id(self, run_id: str) -> str | None:
        with self._lock:
            stream = self._runs.get(run_id)
            return stream.events[-1].id if stream and stream.events else None


class _MemoryFollow:
    def __init__(self, bus: MemoryRunEventBus, run_id: str, after: str | None) -> None:
        self._bus = bus
        self.run_id = run_id
        self.after = after

    async def next(self, *, block_s: float) -> list[BusEvent]:
        events = await self._bus.wait(self.run_id, after=self.after, block_s=block_s)
        if events:
            self.after = events[-1].id
        return events


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
    return {"state": "finished", "nodeId": result.node_id, "result": node_result_data(result)}


def end_data(run: WorkflowRun) -> dict[str, Any]:
    return {**run_counts(run), "durationMs": run.duration_ms, "errorSummary": run.error_summary}


# Events of a model's streamed text, published as they come rather than with the next batch.
_STREAMED_TEXT = frozenset({"token", "reset"})


class RunEventPublisher:
    """Publishes one run's events. They are held and published together at each `flush` (the sink's, after
    it wrote the batch they belong to): one round trip a batch, not three a node, and the run's counts once
    a batch. A model's streamed text goes out at once, with what is held: a reader watches it being typed,
    and a batch is up to 0.1 s. A bus that is down costs the live view, never the run: failures are logged
    (once per run) and the run goes on; readers fall back to the database."""

    def __init__(self, *, run: WorkflowRun, bus: RunEventBus | None = None) -> None:
        self.run = run
        self.run_id = str(run.id)
        self.bus = bus or run_event_bus()
        self._warned = False
        self._held: list[tuple[str, dict[str, Any]]] = []
        self._counts_changed = False

    def publish(self, type: str, data: dict[str, Any]) -> None:
        self._held.append((type, data))
        if type in _STREAMED_TEXT:
            self.flush()

    def flush(self) -> None:
        if self._counts_changed:
            self._held.append(("run", run_counts(self.run) | {"status": "running"}))
            self._counts_changed = False
        if not self._held:
            return
        events, self._held = self._held, []
        try:
            self.bus.publish(self.run_id, events)
        except (redis.RedisError, OSError) as exc:
            if not self._warned:
                logger.warning("run %s: live events not published (%s)", self.run_id, exc)
                self._warned = True

    def discard(self) -> None:
        """Forget what is held: the run is another worker's now."""
        self._held.clear()
        self._counts_changed = False

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
            self._counts_changed = True
        elif isinstance(event, engine.LogLine):
            self.publish("log", {"nodeId": event.node_id, "level": event.level, "message": event.message})

    def end(self, run: WorkflowRun) -> None:
        self._counts_changed = False  # the end event carries the final counts
        self.publish(END, end_data(run))
        self.flush()
        # If this fails the stream still expires on its own (active_ttl_s).
        with contextlib.suppress(redis.RedisError, OSError):
            self.bus.close(self.run_id)
