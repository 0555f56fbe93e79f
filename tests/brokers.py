"""A private Dramatiq StubBroker for the runs actor, and waiting until a worker has drained it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
from django_dramatiq.middleware import DbConnectionsMiddleware
from dramatiq.brokers.stub import StubBroker

from runs.tasks import execute_run


@contextmanager
def private_stub_broker() -> Iterator[StubBroker]:
    """Route `execute_run` through a fresh StubBroker, so no message reaches a real broker or another test."""
    previous_actor_broker = execute_run.broker
    previous_broker = dramatiq.get_broker()
    stub = StubBroker()
    stub.add_middleware(DbConnectionsMiddleware())
    stub.emit_after("process_boot")
    dramatiq.set_broker(stub)
    execute_run.broker = stub
    stub.declare_actor(execute_run)
    try:
        yield stub
    finally:
        stub.flush_all()
        stub.close()
        execute_run.broker = previous_actor_broker
        dramatiq.set_broker(previous_broker)


def drain(broker: StubBroker, worker: dramatiq.Worker) -> None:
    """Wait until the worker has processed every queued run (failing on the first actor error)."""
    broker.join(execute_run.queue_name, fail_fast=True, timeout=30_000)
    worker.join()
