"""Fixtures for the workflows app: a saved workflow."""

from __future__ import annotations

import pytest

from tests.graphs import text_to_debug_graph
from workflows.models import Workflow
from workflows.services import workflow_create


@pytest.fixture
def alice_workflow(alice) -> Workflow:
    return workflow_create(owner=alice, name="Alice's flow", description="first", **text_to_debug_graph())
