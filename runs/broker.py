"""Dramatiq's Redis broker, with idle consumers woken by each enqueue instead of polling, and the messages of
dead worker processes handed back on demand.

Dramatiq's Redis consumer polls an empty queue with a growing sleep that reaches the worker timeout
(1 s, jittered to 0.5-1 s): on an idle worker a new run waited about 700 ms before it started. Here every
enqueue also pushes a token onto a wake-up list for its queue, and a consumer that found its queue empty
waits on that list (BLPOP) instead of sleeping: it fetches as soon as a message arrives, and still wakes
after the idle timeout to let the worker stop or pause. Loaded by django_dramatiq before the apps are ready.

A worker process that dies holds the messages it fetched (running or prefetched, not acked) in its ack set.
Dramatiq moves them back to their queue in its maintenance pass, once the process's broker heartbeat is older
than `heartbeat_timeout`, but runs that pass on one call in a thousand, at random: queued runs whose
messages a SIGKILLed worker had prefetched waited minutes. `requeue_dead_workers_messages` runs the same pass
now; the run sweeper calls it on every tick.
"""

from __future__ import annotations

from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

# Tokens left behind while every consumer is busy only cost one empty fetch each later; this bounds them.
_WAKE_TOKENS_KEPT = 64
# A dispatch command the broker's script does not know: the call does the maintenance pass (and records this
# process's heartbeat, as every call does) and nothing else.
_MAINTAIN = "maintain"


class PromptRedisBroker(RedisBroker):
    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:{queue_name}.wake"

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _PromptConsumer

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        enqueued = super().enqueue(message, delay=delay)
        if delay is None:  # a delayed message becomes due by time, which no token can announce
            key = self.wake_key(message.queue_name)
            pipeline = self.client.pipeline(transaction=False)
            pipeline.lpush(key, 1)
            pipeline.ltrim(key, 0, _WAKE_TOKENS_KEPT - 1)
            pipeline.execute()
        return enqueued

    def requeue_dead_workers_messages(self) -> None:
        """Put the messages held by worker processes whose broker heartbeat is older than `heartbeat_timeout`
        back on their queues (every declared queue and delay queue), with Dramatiq's own maintenance pass.

        A message whose run another worker already finished or claimed is dropped by the run's claim, so a
        slow live worker taken for dead costs a duplicate message, never a second execution.
        """
        for queue_name in sorted(self.queues | self.delay_queues):
            self.do_maintain(queue_name)

    def _should_do_maintenance(self, command: str) -> int:
        return 1 if command == _MAINTAIN else super()._should_do_maintenance(command)


class _PromptConsumer(_RedisConsumer):
    broker: PromptRedisBroker

    def __next__(self) -> Any:
        room = self.prefetch - self.outstanding_message_count
        if not self.message_cache and room > 0 and self.queue_name != dq_name(self.queue_name):
            try:
                self.message_cache = self.broker.do_fetch(self.queue_name, room)
                if not self.message_cache:
                    self.broker.client.blpop(
                        [self.broker.wake_key(self.queue_name)], timeout=self.timeout / 1000
                    )
                    self.message_cache = self.broker.do_fetch(self.queue_name, room)
            except redis.ConnectionError as exc:
                raise ConnectionClosed(exc) from None
            if not self.message_cache:
                return None
        # Messages in the cache, a full consumer or a delay queue: Dramatiq's own path.
        return super().__next__()
