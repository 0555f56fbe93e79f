"""The live event bus of runs, its interface: workers publish each run's events, stream readers read them
since an id and then follow them live.

Two implementations: Redis Streams when REDIS_URL is set (runs.eventbus_redis: one stream per run, at most
RUN_EVENTS_MAXLEN entries, expiring RUN_EVENTS_TTL_SECONDS after the run ends, so that a reconnecting client
can replay what it missed), and an in-process memory bus for the in-process worker without Redis
(runs.eventbus_memory); `runs.events.run_event_bus` picks one. The database stays the record of truth: a
reader that finds the bus trimmed or expired falls back to it (see runs/stream.py). Event ids are "<n>-<m>"
strings (Redis stream ids: two unsigned 64-bit numbers), increasing within a run.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder

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
    def publish(
        self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]], *, last: bool = False
    ) -> list[str]:
        """Append (type, data) events to the run's stream, in order, at once (from any thread); their ids.
        With `last` they end the run: its stream is kept RUN_EVENTS_TTL_SECONDS longer, then dropped."""
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


def encode_event_data(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))
