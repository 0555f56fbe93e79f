"""The run event bus, both implementations: ids, replay after an id, trimming reported as a gap, expiry,
and a blocking read that outwaits redis-py's default socket timeout."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from runs.events import MemoryRunEventBus, RedisRunEventBus, id_key


def redis_bus(**options: object) -> RedisRunEventBus:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL")
    defaults = {"maxlen": 10_000, "ttl_s": 60, "active_ttl_s": 600, "longest_read_s": 7}
    return RedisRunEventBus(url, **{**defaults, **options})


@pytest.fixture
def run_id() -> Iterator[str]:
    run_id = str(uuid.uuid4())
    yield run_id
    if os.environ.get("REDIS_URL"):
        redis_bus()._sync.delete(RedisRunEventBus.key(run_id))


@pytest.fixture(params=["memory", "redis"])
def bus(request) -> MemoryRunEventBus | RedisRunEventBus:
    if request.param == "memory":
        return MemoryRunEventBus(maxlen=10_000, ttl_s=60)
    return redis_bus()


def test_events_come_back_in_order_after_any_id(bus, run_id):
    ids = [bus.publish(run_id, "token", {"nodeId": "b", "text": str(i)}) for i in range(5)]

    everything = asyncio.run(bus.read(run_id, after=None, block_s=0))
    after_second = asyncio.run(bus.read(run_id, after=ids[1], block_s=0))

    assert [e.id for e in everything.events] == ids
    assert [id_key(i) for i in ids] == sorted(id_key(i) for i in ids)
    assert [e.data["text"] for e in after_second.events] == ["2", "3", "4"]
    assert not everything.gap
    assert not after_second.gap
    assert asyncio.run(bus.last_id(run_id)) == ids[-1]


def test_a_blocking_read_wakes_on_a_publish_from_another_thread(bus, run_id):
    async def wait_and_publish():
        loop = asyncio.get_running_loop()
        reading = asyncio.ensure_future(bus.read(run_id, after=None, block_s=5))
        await asyncio.sleep(0.2)
        await loop.run_in_executor(None, bus.publish, run_id, "end", {"status": "succeeded"})
        return await reading

    read = asyncio.run(wait_and_publish())

    assert [e.type for e in read.events] == ["end"]


def test_trimmed_events_are_reported_as_a_gap(run_id):
    memory = MemoryRunEventBus(maxlen=3, ttl_s=60)
    ids = [memory.publish(run_id, "log", {"i": i}) for i in range(5)]

    from_start = asyncio.run(memory.read(run_id, after=None, block_s=0))
    from_kept = asyncio.run(memory.read(run_id, after=ids[1], block_s=0))

    assert from_start.gap
    assert [e.id for e in from_start.events] == ids[2:]
    assert not from_kept.gap


def test_redis_trims_a_long_stream_and_says_so(run_id):
    bus = redis_bus(maxlen=10)
    ids = [bus.publish(run_id, "token", {"i": i}) for i in range(400)]  # trimmed a macro node at a time

    read = asyncio.run(bus.read(run_id, after=None, block_s=0))
    recent = asyncio.run(bus.read(run_id, after=ids[-2], block_s=0))

    assert read.gap
    assert len(read.events) < 400
    assert read.events[-1].id == ids[-1]
    assert not recent.gap


def test_an_expired_stream_is_a_gap_for_a_reader_that_had_seen_some_of_it(bus, run_id):
    seen = bus.publish(run_id, "run", {"status": "running"})
    if isinstance(bus, MemoryRunEventBus):
        bus.ttl_s = -1
    bus.close(run_id)
    if isinstance(bus, RedisRunEventBus):
        bus._sync.delete(bus.key(run_id))  # what the expiry does

    asyncio.run(asyncio.sleep(0))
    bus.publish(str(uuid.uuid4()), "run", {})  # the memory bus forgets expired runs as it publishes
    read = asyncio.run(bus.read(run_id, after=seen, block_s=0))

    assert read.gap
    assert read.events == []


def test_a_blocking_read_longer_than_redis_pys_default_timeout_returns_empty(run_id):
    bus = redis_bus(longest_read_s=6)

    read = asyncio.run(bus.read(run_id, after=None, block_s=6))

    assert read.events == []
