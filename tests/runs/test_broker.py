"""The Redis broker wakes an idle consumer as soon as a message is enqueued, and hands the messages a dead
worker process held to live ones (real Redis)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis
from dramatiq.message import Message

from runs.broker import PromptRedisBroker
from tests.waiting import wait_for

pytestmark = pytest.mark.services

# Far longer than the test may wait: a consumer that returns sooner was woken, not timed out.
IDLE_TIMEOUT_MS = 120_000


@pytest.fixture
def broker() -> Iterator[PromptRedisBroker]:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs Redis: set REDIS_URL")
    namespace = f"weft-test-{uuid.uuid4().hex[:10]}"
    broker = PromptRedisBroker(url=url, namespace=namespace)
    broker.declare_queue("runs")
    yield broker
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{namespace}*"))
    if keys:
        client.delete(*keys)
    broker.close()


def message(n: int) -> Message:
    return Message(queue_name="runs", actor_name="execute_run", args=(f"run-{n}",), kwargs={}, options={})


def test_an_idle_consumer_wakes_for_a_message_enqueued_while_it_waits(broker: PromptRedisBroker) -> None:
    consumer = broker.consume("runs", prefetch=2, timeout=IDLE_TIMEOUT_MS)
    # Dramatiq's own consumer would now sleep 60-120 s after finding the queue empty, whatever arrives.
    consumer.misses = 40
    received = []
    waiting = threading.Thread(target=lambda: received.append(next(consumer)))
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive()  # waiting on an empty queue
    assert not received

    broker.enqueue(message(1))
    waiting.join(timeout=30)

    assert not waiting.is_alive()
    assert [proxy.args for proxy in received] == [("run-1",)]
    consumer.ack(received[0])
    consumer.close()


def test_messages_enqueued_before_the_consumer_looks_are_fetched_without_waiting(
    broker: PromptRedisBroker,
) -> None:
    for n in range(3):
        broker.enqueue(message(n))
    consumer = broker.consume("runs", prefetch=3, timeout=IDLE_TIMEOUT_MS)

    got = [next(consumer) for _ in range(3)]

    assert sorted(proxy.args[0] for proxy in got) == ["run-0", "run-1", "run-2"]
    for proxy in got:
        consumer.ack(proxy)
    consumer.close()


def test_wake_tokens_left_while_consumers_were_busy_stay_bounded(broker: PromptRedisBroker) -> None:
    for n in range(200):
        broker.enqueue(message(n))
    assert broker.client.llen(broker.wake_key("runs")) == 64


def test_messages_fetched_by_a_worker_whose_heartbeat_stopped_go_back_to_the_queue(
    broker: PromptRedisBroker,
) -> None:
    for n in range(3):
        broker.enqueue(message(n))
    dead = PromptRedisBroker(client=broker.client, namespace=broker.namespace)
    dead.declare_queue("runs")
    dead_consumer = dead.consume("runs", prefetch=2, timeout=IDLE_TIMEOUT_MS)
    assert [next(dead_consumer).args[0] for _ in range(2)] == ["run-0", "run-1"]
    assert broker.client.llen(f"{broker.namespace}:runs") == 1

    # Its heartbeat is a moment old: alive for any sensible timeout, so nothing moves.
    sweeper = PromptRedisBroker(client=broker.client, namespace=broker.namespace, heartbeat_timeout=60_000)
    sweeper.declare_queue("runs")
    sweeper.requeue_dead_workers_messages()
    assert broker.client.llen(f"{broker.namespace}:runs") == 1

    # Silent for longer than the timeout: both held messages are queued again, and fetched like any other.
    sweeper.heartbeat_timeout = 1
    wait_for(
        lambda: sweeper.requeue_dead_workers_messages() or broker.client.llen(f"{broker.namespace}:runs") == 3
    )
    consumer = sweeper.consume("runs", prefetch=3, timeout=IDLE_TIMEOUT_MS)
    assert sorted(next(consumer).args[0] for _ in range(3)) == ["run-0", "run-1", "run-2"]
