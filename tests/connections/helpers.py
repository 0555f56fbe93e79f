"""Shared steps of the connection tests: a connection on the fake LLM server, and the secret they hide."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.fakes.llm_server import FakeLLMServer

SECRET = "sk-test-very-secret-key-7f3a"
HEADER_SECRET = "header-value-never-shown-91c2"


def create_on_fake(client: APIClient, server: FakeLLMServer, **overrides: Any) -> dict[str, Any]:
    """POST an OpenAI-compatible connection at the fake server (127.0.0.1 must be an allowed network)."""
    body = {
        "name": "My server",
        "slug": "mine",
        "kind": "openai",
        "baseUrl": server.openai_url,
        "secret": SECRET,
        "headers": {"X-Team": HEADER_SECRET},
    } | overrides
    response = client.post("/api/connections", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()
