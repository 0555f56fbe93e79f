"""A per-user cap on personal API tokens (issue 18, point 8): API_TOKENS_MAX_PER_USER."""

from __future__ import annotations

import pytest

from accounts.models import ApiToken
from accounts.services import TooManyApiTokens, api_token_create

pytestmark = pytest.mark.django_db


def test_creating_past_the_cap_is_a_400_in_the_usual_error_shape(alice_client, alice, settings):
    settings.API_TOKENS_MAX_PER_USER = 3
    for n in range(3):
        assert alice_client.post("/api/tokens", {"name": f"t{n}"}, format="json").status_code == 201

    response = alice_client.post("/api/tokens", {"name": "one-too-many"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert "3 API tokens" in body["detail"]
    assert body["errors"] == [{"path": "body", "message": body["detail"]}]
    assert ApiToken.objects.filter(owner=alice).count() == 3


def test_the_cap_is_per_user_and_revoking_frees_a_place(alice_client, bob_client, alice, settings):
    settings.API_TOKENS_MAX_PER_USER = 1
    first = alice_client.post("/api/tokens", {"name": "a"}, format="json").json()

    assert bob_client.post("/api/tokens", {"name": "b"}, format="json").status_code == 201
    assert alice_client.post("/api/tokens", {"name": "a2"}, format="json").status_code == 400
    assert alice_client.delete(f"/api/tokens/{first['id']}").status_code == 204
    assert alice_client.post("/api/tokens", {"name": "a2"}, format="json").status_code == 201


def test_the_service_refuses_past_the_cap(alice, settings):
    settings.API_TOKENS_MAX_PER_USER = 1
    api_token_create(owner=alice, name="first")

    with pytest.raises(TooManyApiTokens):
        api_token_create(owner=alice, name="second")


def test_the_default_cap_is_fifty(settings):
    assert settings.API_TOKENS_MAX_PER_USER == 50


def test_the_command_names_the_cap_instead_of_a_traceback(alice, settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.API_TOKENS_MAX_PER_USER = 0

    with pytest.raises(CommandError, match="0 API tokens"):
        call_command("create_api_token", "alice@example.com")
