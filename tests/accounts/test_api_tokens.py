"""Personal API tokens: created once-shown, stored hashed, revoked, and accepted as Bearer credentials."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_authenticate, api_token_create

pytestmark = pytest.mark.django_db


def bearer_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_created_token_is_shown_once_and_stored_only_as_a_digest(alice_client, alice):
    response = alice_client.post("/api/tokens", {"name": "laptop"}, format="json")

    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("weft_")
    stored = ApiToken.objects.get(owner=alice)
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.name, stored.prefix, stored.digest}
    listed = alice_client.get("/api/tokens").json()
    assert [item["name"] for item in listed] == ["laptop"]
    assert "token" not in listed[0]


def test_token_authenticates_a_bearer_request_and_records_its_use(alice):
    issued = api_token_create(owner=alice, name="script")

    response = bearer_client(issued.secret).get("/api/tokens")

    assert response.status_code == 200
    assert response.json()[0]["id"] == issued.token.id
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer weft_not-a-real-token", "Bearer ", "Bearer two parts", "Bearer not-even-our-prefix"],
)
def test_bad_bearer_credentials_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/tokens")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_anonymous_request_is_401_with_a_bearer_challenge(anon_client):
    response = anon_client.get("/api/tokens")

    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]


def test_revoked_token_no_longer_authenticates(alice, alice_client):
    issued = api_token_create(owner=alice, name="old")

    assert alice_client.delete(f"/api/tokens/{issued.token.id}").status_code == 204
    assert bearer_client(issued.secret).get("/api/tokens").status_code == 401


def test_inactive_users_token_is_refused(alice):
    issued = api_token_create(owner=alice, name="x")
    alice.is_active = False
    alice.save()

    assert bearer_client(issued.secret).get("/api/tokens").status_code == 401


def test_another_users_token_is_invisible_and_cannot_be_revoked(alice, bob_client):
    issued = api_token_create(owner=alice, name="alice's")

    assert bob_client.get("/api/tokens").json() == []
    assert bob_client.delete(f"/api/tokens/{issued.token.id}").status_code == 404
    assert ApiToken.objects.filter(pk=issued.token.pk).exists()


def test_token_name_is_required(alice_client):
    response = alice_client.post("/api/tokens", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "name: This field is required.",
        "errors": [{"path": "name", "message": "This field is required."}],
    }


def test_session_writes_require_a_csrf_token(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/api/tokens", {"name": "x"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_create_api_token_command_prints_a_working_token(alice, capsys):
    call_command("create_api_token", "ALICE@example.com", "--name", "ops")

    secret = capsys.readouterr().out.strip()
    assert bearer_client(secret).get("/api/tokens").json()[0]["name"] == "ops"


def test_create_api_token_command_names_an_unknown_user():
    with pytest.raises(CommandError, match=r"nobody@example\.com"):
        call_command("create_api_token", "nobody@example.com")


def test_token_list_costs_the_same_queries_for_one_token_or_twenty(
    alice, alice_client, django_assert_max_num_queries
):
    api_token_create(owner=alice, name="first")
    with django_assert_max_num_queries(3) as few:
        alice_client.get("/api/tokens")
    for i in range(19):
        api_token_create(owner=alice, name=f"token {i}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = alice_client.get("/api/tokens")

    assert len(response.json()) == 20


def test_a_token_in_use_is_authenticated_from_the_cache_without_a_query(alice, django_assert_num_queries):
    issued = api_token_create(owner=alice, name="busy")
    first = api_token_authenticate(secret=issued.secret)

    with django_assert_num_queries(0):
        again = api_token_authenticate(secret=issued.secret)

    assert (again.pk, again.owner.pk) == (first.pk, alice.pk)


def test_a_token_in_use_stops_working_as_soon_as_it_is_revoked(alice, alice_client):
    issued = api_token_create(owner=alice, name="old")
    client = bearer_client(issued.secret)
    assert client.get("/api/tokens").status_code == 200

    assert alice_client.delete(f"/api/tokens/{issued.token.id}").status_code == 204
    assert client.get("/api/tokens").status_code == 401


def test_a_token_in_use_stops_working_as_soon_as_its_user_is_deactivated(alice):
    issued = api_token_create(owner=alice, name="x")
    client = bearer_client(issued.secret)
    assert client.get("/api/tokens").status_code == 200

    alice.is_active = False
    alice.save()

    assert client.get("/api/tokens").status_code == 401


def test_a_token_in_use_stops_working_when_deleted_in_bulk_or_with_its_user(alice, bob):
    alices = api_token_create(owner=alice, name="a")
    bobs = api_token_create(owner=bob, name="b")
    for issued in (alices, bobs):
        assert bearer_client(issued.secret).get("/api/tokens").status_code == 200

    ApiToken.objects.filter(owner=alice).delete()
    bob.delete()

    assert bearer_client(alices.secret).get("/api/tokens").status_code == 401
    assert bearer_client(bobs.secret).get("/api/tokens").status_code == 401
