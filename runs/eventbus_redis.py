"""The live event bus on Redis Streams: one stream per run, written synchronously by worker threads and read
asynchronously by the stream view, all the follows of an event loop through one blocking XREAD."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any

import redis
import redis.asyncio

from runs.eventbus import EVENT_ID_PART_MAX, BusEvent, BusRead, EventFollow, encode_event_data, id_key

logger = logging.getLogger(__name__)

# Connections of one event loop (one per web process under ASGI) for the short commands (XRANGE, XINFO);
# a command waits for a free one rather than failing, so the loop never holds more than these plus its reader.
SHORT_COMMAND_CONNECTIONS = 10
# How the stream clients name themselves to Redis (CLIENT LIST), so an operator can count them.
CLIENT_NAME = "weft-run-events"
# Events handed to one follow and not taken yet (a slow client): past this it drops them and re-reads.
FOLLOW_BUFFER = 1000
# A short command (XADD, XRANGE, XINFO) answers in milliseconds; one that takes this long finds Redis down or
# unreachable, and fails rather than holding a worker thread or a stream (the clients' socket timeout).
COMMAND_TIMEOUT_S = 5
# At most this many events in one catch-up XRANGE: as many as a run's stream keeps by default
# (RUN_EVENTS_MAXLEN), so a catch-up reads the whole stream in one command.
CATCH_UP_MAX_EVENTS = 10_000
# After the run reader's XREAD failed (Redis down, say), it waits this long before asking again.
READER_RETRY_WAIT_S = 1
# The reader's own wake-up stream is kept this long after its last wake, so a dead process leaves none behind.
_WAKE_TTL_S = 60


class RedisRunEventBus:
    """One Redis stream per run. Writes are synchronous (worker threads), reads asynchronous (the stream
    view), with one set of asyncio clients per event loop (a client cannot be shared between loops)."""

    def __init__(
        self, url: str, *, maxlen: int, ttl_s: int, active_ttl_s: int, longest_read_s: float
    ) -> None:
        self.url = url
        self.longest_read_s = longest_read_s
        # A blocking read waits up to longest_read_s before its reply is due.
        self.read_timeout_s = longest_read_s + COMMAND_TIMEOUT_S
        self.maxlen = maxlen
        self.ttl_s = ttl_s
        # A run whose worker dies never closes its stream; it still expires, this long after its last event.
        self.active_ttl_s = active_ttl_s
        self._sync = redis.Redis.from_url(
            url, socket_timeout=COMMAND_TIMEOUT_S, socket_connect_timeout=COMMAND_TIMEOUT_S
        )
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = (
            weakref.WeakKeyDictionary()
        )

    @staticmethod
    def key(run_id: str) -> str:
        return f"weft:run-events:{run_id}"

    def publish(
        self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]], *, last: bool = False
    ) -> list[str]:
        key = self.key(run_id)
        pipe = self._sync.pipeline(transaction=False)
        for type, data in events:
            pipe.xadd(
                key, {"type": type, "data": encode_event_data(data)}, maxlen=self.maxlen, approximate=True
            )
        pipe.expire(key, self.ttl_s if last else self.active_ttl_s)
        *event_ids, _ = pipe.execute()
        return [event_id.decode() for event_id in event_ids]

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
            self.key(run_id), min=f"({after}" if after else "-", count=CATCH_UP_MAX_EVENTS
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
            bus.url,
            max_connections=SHORT_COMMAND_CONNECTIONS,
            socket_timeout=COMMAND_TIMEOUT_S,
            client_name=CLIENT_NAME,
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
        # Only that a wake happened matters to the XREAD, so the stream keeps just the last one.
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
                await asyncio.sleep(READER_RETRY_WAIT_S)
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
