"""The run event bus, both implementations: ids, replay after an id, trimming reported as a gap, expiry,
and a blocking read that outwaits redis-py's default socket timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from runs.eventbus import id_key
from runs.eventbus_memory import MemoryRunEventBus
from runs.eventbus_redis import CLIENT_NAME, FOLLOW_BUFFER, SHORT_COMMAND_CONNECTIONS, RedisRunEventBus


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
    ids = bus.publish(run_id, [("token", {"nodeId": "b", "text": str(i)}) for i in range(5)])

    everything = asyncio.run(bus.read(run_id, after=None))
    after_second = asyncio.run(bus.read(run_id, after=ids[1]))

    assert [e.id for e in everything.events] == ids
    assert [id_key(i) for i in ids] == sorted(id_key(i) for i in ids)
    assert [e.data["text"] for e in after_second.events] == ["2", "3", "4"]
    assert not everything.gap
    assert not after_second.gap
    assert asyncio.run(bus.last_id(run_id)) == ids[-1]


def _waiting_for_events(task: asyncio.Task) -> bool:
    """Whether the task is suspended in its follow's timed wait for the next events (not before it)."""
    awaiting = task.get_coro()
    while hasattr(awaiting, "cr_code"):
        if awaiting.cr_code.co_name == "wait_for":
            return True
        awaiting = awaiting.cr_await
    return False


def test_a_follow_wakes_on_a_publish_from_another_thread(bus, run_id):
    async def wait_and_publish():
        loop = asyncio.get_running_loop()
        async with bus.follow(run_id, after=None) as follow:
            reading = asyncio.ensure_future(follow.next(block_s=5))
            deadline = loop.time() + 5
            while not _waiting_for_events(reading) and loop.time() < deadline:
                await asyncio.sleep(0.001)
            assert _waiting_for_events(reading)
            await loop.run_in_executor(None, bus.publish, run_id, [("end", {"status": "succeeded"})])
            events = await reading
        await bus.release()
        return events

    events = asyncio.run(wait_and_publish())

    assert [e.type for e in events] == ["end"]


def test_trimmed_events_are_reported_as_a_gap(run_id):
    memory = MemoryRunEventBus(maxlen=3, ttl_s=60)
    ids = [memory.publish(run_id, [("log", {"i": i})])[0] for i in range(5)]

    from_start = asyncio.run(memory.read(run_id, after=None))
    from_kept = asyncio.run(memory.read(run_id, after=ids[1]))

    assert from_start.gap
    assert [e.id for e in from_start.events] == ids[2:]
    assert not from_kept.gap


def test_redis_trims_a_long_stream_and_says_so(run_id):
    bus = redis_bus(maxlen=10)
    # One event a call: Redis trims a macro node at a time.
    ids = [bus.publish(run_id, [("token", {"i": i})])[0] for i in range(400)]

    read = asyncio.run(bus.read(run_id, after=None))
    recent = asyncio.run(bus.read(run_id, after=ids[-2]))

    assert read.gap
    assert len(read.events) < 400
    assert read.events[-1].id == ids[-1]
    assert not recent.gap


def test_an_expired_stream_is_a_gap_for_a_reader_that_had_seen_some_of_it(bus, run_id):
    if isinstance(bus, MemoryRunEventBus):
        bus.ttl_s = -1
    (seen,) = bus.publish(run_id, [("end", {"status": "succeeded"})], last=True)
    if isinstance(bus, RedisRunEventBus):
        bus._sync.delete(bus.key(run_id))  # what the expiry does

    asyncio.run(asyncio.sleep(0))
    bus.publish(str(uuid.uuid4()), [("run", {})])  # the memory bus forgets expired runs as it publishes
    read = asyncio.run(bus.read(run_id, after=seen))

    assert read.gap
    assert read.events == []


def test_a_follow_waiting_longer_than_redis_pys_default_timeout_returns_empty(run_id):
    bus = redis_bus(longest_read_s=6)

    async def wait() -> list:
        async with bus.follow(run_id, after=None) as follow:
            events = await follow.next(block_s=6)
        await bus.release()
        return events

    assert asyncio.run(wait()) == []


def test_a_follow_joining_a_run_that_others_follow_gets_its_events_from_the_start(bus, run_id):
    async def follow_twice() -> tuple[list, list]:
        async with bus.follow(run_id, after=None) as early:
            ids = bus.publish(run_id, [("log", {"i": i}) for i in range(3)])
            seen_early = await early.next(block_s=5)
            async with bus.follow(run_id, after=None) as late:
                bus.publish(run_id, [("end", {})])
                seen_late = await late.next(block_s=5)
                if seen_late[-1].type != "end":  # the catch-up may come before the reader hands `end` over
                    seen_late += await late.next(block_s=5)
        await bus.release()
        return [e.id for e in seen_early], ids, [e.type for e in seen_late]

    seen_early, ids, seen_late = asyncio.run(follow_twice())

    assert seen_early == ids
    assert seen_late == ["log", "log", "log", "end"]


def test_a_follow_that_fell_behind_its_buffer_catches_up_without_losing_an_event(run_id):
    bus = redis_bus()
    count = FOLLOW_BUFFER + 200

    async def overflow() -> tuple[list[str], list[str]]:
        loop = asyncio.get_running_loop()
        async with bus.follow(run_id, after=None) as follow:
            published = await loop.run_in_executor(
                None, lambda: [bus.publish(run_id, [("token", {"i": i})])[0] for i in range(count)]
            )
            deadline = loop.time() + 10
            while not follow.behind and loop.time() < deadline:  # the reader hands over, the buffer overflows
                await asyncio.sleep(0.01)
            assert follow.behind
            seen: list[str] = []
            while len(seen) < count:
                seen += [e.id for e in await follow.next(block_s=5)]
        await bus.release()
        return published, seen

    published, seen = asyncio.run(overflow())

    assert seen == published


def test_follows_of_many_runs_on_one_loop_share_one_blocking_connection(run_id):
    bus = redis_bus()
    runs = [str(uuid.uuid4()) for _ in range(150)]
    watcher = bus._sync

    def stream_clients() -> int:
        return sum(1 for client in watcher.client_list() if client.get("name") == CLIENT_NAME)

    async def follow_all() -> tuple[int, list[list[str]]]:
        loop = asyncio.get_running_loop()
        async with contextlib.AsyncExitStack() as stack:
            follows = [
                await stack.enter_async_context(bus.follow(r, after=None)) for r in runs for _ in (1, 2)
            ]
            waiting = [asyncio.ensure_future(follow.next(block_s=10)) for follow in follows]
            await loop.run_in_executor(None, lambda: [bus.publish(r, [("end", {})]) for r in runs])
            seen = [[e.type for e in events] for events in await asyncio.gather(*waiting)]
            during = await loop.run_in_executor(None, stream_clients)
        await bus.release()
        return during, seen

    before = stream_clients()
    try:
        during, seen = asyncio.run(follow_all())
    finally:
        watcher.delete(*(bus.key(r) for r in runs))

    assert seen == [["end"]] * 300
    assert during - before <= SHORT_COMMAND_CONNECTIONS + 1
