"""A small server-sent events client over httpx, for the live-run tests and the stream benchmark."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ServerEvent:
    type: str
    id: str | None
    data: Any
    at: float  # time.monotonic() when it was read


def parse_stream(body: bytes) -> list[tuple[str, dict]]:
    """(type, data) of each event of a whole text/event-stream body, read at once (the test client's)."""
    events = []
    for block in body.decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith((":", "retry"))
        )
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def read_events(response: httpx.Response) -> Iterator[ServerEvent]:
    """The events of an open text/event-stream response, as they arrive (comments are skipped)."""
    fields: dict[str, list[str]] = {}
    for line in response.iter_lines():
        if line == "":
            if "data" in fields:
                data = json.loads("\n".join(fields["data"]))
                event_id = fields["id"][-1] if "id" in fields else None
                yield ServerEvent(fields.get("event", ["message"])[-1], event_id, data, time.monotonic())
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value.removeprefix(" "))


def collect(
    url: str,
    *,
    token: str,
    last_event_id: str | None = None,
    stop_after: int | None = None,
    timeout: float = 30,
) -> list[ServerEvent]:
    """Read a stream until `end` (or `stop_after` events, then disconnect)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    events: list[ServerEvent] = []
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
        response.raise_for_status()
        for event in read_events(response):
            events.append(event)
            if event.type == "end" or (stop_after is not None and len(events) >= stop_after):
                break
    return events
