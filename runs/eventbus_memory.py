"""The live event bus inside one process, for the in-process worker without Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from runs.eventbus import BusEvent, BusRead, EventFollow, encode_event_data, id_key


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

    def publish(
        self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]], *, last: bool = False
    ) -> list[str]:
        # Round-tripped through JSON like the Redis bus, so both hand readers the same values.
        decoded = [(type, json.loads(encode_event_data(data))) for type, data in events]
        ids = []
        with self._lock:
            self._forget_expired()
            stream = self._stream(run_id)
            for type, data in decoded:
                stream.added += 1
                stream.events.append(BusEvent(f"{stream.added}-0", type, data))
                ids.append(f"{stream.added}-0")
            if last:
                stream.expires_at = time.monotonic() + self.ttl_s
            waiters = list(stream.waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)
        return ids

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
