"""Fixtures for the triggers tests: a published workflow with inputs, and a private StubBroker per test."""

from __future__ import annotations

import pytest
from dramatiq.brokers.stub import StubBroker

from tests.graphs import callable_graph
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_publish


@pytest.fixture(autouse=True)
def _private_broker(broker: StubBroker) -> StubBroker:
    """No triggers test may send a message to a real broker: the runs they start are enqueued here."""
    return broker


@pytest.fixture
def writer(alice) -> Workflow:
    """Alice's published workflow with inputs topic (required), style and photo."""
    return workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
