"""Fixtures for the workflows app: a third user, token clients, saved workflows and graph payloads."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.factories import UserFactory, text_to_debug_graph
from workflows.models import Workflow
from workflows.services import workflow_create


@pytest.fixture
def mallory(db):
    return UserFactory(email="mallory@example.com")


@pytest.fixture
def alice_token_client(alice) -> APIClient:
    """Alice over `Authorization: Bearer`, as scripts and the schemathesis run talk to the API."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=alice, name='tests').secret}")
    return client


@pytest.fixture
def alice_workflow(alice) -> Workflow:
    return workflow_create(owner=alice, name="Alice's flow", description="first", **text_to_debug_graph())
