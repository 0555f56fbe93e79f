"""A Bearer GET of a cached workflow or run reads its token, its owner's generation and its entry in one
Redis round trip (core.cache.owner_entry_prefetch), without giving up what the token check guarantees:
revoked tokens refused, nobody served another user's entry, a stale entry never served."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache, caches
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.factories import WorkflowFactory, WorkflowRunFactory

pytestmark = pytest.mark.django_db


def bearer_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def owner_pointer_key(token: ApiToken) -> str:
    # Where accounts.services keeps a cached token's owner id for the Redis script to follow.
    return f"apitoken:{token.digest}:owner"


@pytest.fixture
def redis_commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the commands the cache's Redis client sends (each one a round trip)."""
    client = caches["default"].client.get_client(write=False)
    sent: list[str] = []
    send = client.execute_command

    def counted(*args: object, **options: object) -> object:
        sent.append(str(args[0]))
        return send(*args, **options)

    monkeypatch.setattr(client, "execute_command", counted)
    return sent


@pytest.fixture(params=["workflow", "run"])
def alices_cached_path(request: pytest.FixtureRequest, alice) -> str:
    if request.param == "workflow":
        return f"/api/workflows/{WorkflowFactory(owner=alice).id}"
    return f"/api/runs/{WorkflowRunFactory(owner=alice).id}"


@pytest.mark.services
def test_a_cached_get_with_a_cached_token_is_one_redis_round_trip_and_no_query(
    alice, alices_cached_path, redis_commands, django_assert_num_queries
):
    client = bearer_client(api_token_create(owner=alice, name="script").secret)
    first = client.get(alices_cached_path)
    assert first.status_code == 200
    redis_commands.clear()

    with django_assert_num_queries(0):
        again = client.get(alices_cached_path)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert redis_commands == ["EVALSHA"]


def test_a_revoked_token_is_refused_though_its_owners_entry_is_cached(
    alice, alice_client, alices_cached_path
):
    issued = api_token_create(owner=alice, name="old")
    client = bearer_client(issued.secret)
    assert client.get(alices_cached_path).status_code == 200

    assert alice_client.delete(f"/api/tokens/{issued.token.id}").status_code == 204

    assert client.get(alices_cached_path).status_code == 401


def test_a_token_deleted_without_signals_is_refused_once_its_cache_entry_expires(alice, alices_cached_path):
    issued = api_token_create(owner=alice, name="gone")
    client = bearer_client(issued.secret)
    assert client.get(alices_cached_path).status_code == 200
    # A raw delete sends no post_delete signal, so the cached token outlives the row.
    ApiToken.objects.filter(pk=issued.token.pk)._raw_delete(connection.alias)

    cache.delete(f"apitoken:{issued.token.digest}")  # what its expiry (API_TOKEN_CACHE_SECONDS) does

    assert client.get(alices_cached_path).status_code == 401


def test_another_users_token_is_never_served_alices_cached_entry(alice, bob, alices_cached_path):
    assert (
        bearer_client(api_token_create(owner=alice, name="a").secret).get(alices_cached_path).status_code
        == 200
    )
    bobs = bearer_client(api_token_create(owner=bob, name="b").secret)

    assert bobs.get(alices_cached_path).status_code == 404
    assert bobs.get(alices_cached_path).status_code == 404  # with Bob's token cached too


@pytest.mark.services  # the pointer is followed by the Redis script only
def test_a_token_whose_cached_owner_pointer_names_someone_else_is_not_served_their_entry(
    alice, bob, alices_cached_path
):
    assert (
        bearer_client(api_token_create(owner=alice, name="a").secret).get(alices_cached_path).status_code
        == 200
    )
    bobs = api_token_create(owner=bob, name="b")
    client = bearer_client(bobs.secret)
    assert client.get(alices_cached_path).status_code == 404

    cache.set(owner_pointer_key(bobs.token), alice.pk)

    response = client.get(alices_cached_path)
    assert response.status_code == 404
    assert cache.get(owner_pointer_key(bobs.token)) == bob.pk  # read afresh from the database


@pytest.mark.django_db(transaction=True)  # the generation moves when the write commits
def test_a_cached_entry_is_not_served_after_its_owner_writes(alice):
    workflow = WorkflowFactory(owner=alice)
    client = bearer_client(api_token_create(owner=alice, name="a").secret)
    assert client.get(f"/api/workflows/{workflow.id}").status_code == 200
    assert client.get(f"/api/workflows/{workflow.id}").status_code == 200

    assert client.delete(f"/api/workflows/{workflow.id}").status_code == 204

    assert client.get(f"/api/workflows/{workflow.id}").status_code == 404
