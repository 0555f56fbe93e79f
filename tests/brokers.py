"""A private Dramatiq StubBroker for the runs' and experiments' actors, and waiting until a worker has drained
it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
from django_dramatiq.middleware import DbConnectionsMiddleware
from dramatiq.brokers.stub import StubBroker

from evaluations.tasks import advance_experiment
from runs.tasks import execute_run

ACTORS = (execute_run, advance_experiment)


@contextmanager
def private_stub_broker() -> Iterator[StubBroker]:
    """Route the actors through a fresh StubBroker, so no message reaches a real broker or another test."""
    previous_actor_brokers = [actor.broker for actor in ACTORS]
    previous_broker = dramatiq.get_broker()
    stub = StubBroker()
    stub.add_middleware(DbConnectionsMiddleware())
    stub.emit_after("process_boot")
    dramatiq.set_broker(stub)
    for actor in ACTORS:
        actor.broker = stub
        stub.declare_actor(actor)
    try:
        yield stub
    finally:
        stub.flush_all()
        stub.close()
        for actor, previous_actor_broker in zip(ACTORS, previous_actor_brokers, strict=True):
            actor.broker = previous_actor_broker
        dramatiq.set_broker(previous_broker)


def drain(broker: StubBroker, worker: dramatiq.Worker) -> None:
    """Wait until the worker has processed every queued run (failing on the first actor error)."""
    broker.join(execute_run.queue_name, fail_fast=True, timeout=30_000)
    worker.join()
