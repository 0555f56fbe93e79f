"""Cached workflow payloads: reads are served from the cache, and every write path makes the next read fresh.

The writes commit for real (transactional database): the caches move when a write commits, as in
production. With REDIS_URL set (CI) these run against the real Redis through django-redis.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from core.cache import owner_caches_invalidate
from tests.graphs import workflow_payload
from workflows import cache as workflow_cache
from workflows.models import Workflow

pytestmark = pytest.mark.django_db(transaction=True)


def _list(client: APIClient) -> dict[str, Any]:
    return client.get("/api/workflows").json()


def _detail(client: APIClient, workflow: Workflow) -> dict[str, Any]:
    return client.get(f"/api/workflows/{workflow.pk}").json()


def test_list_and_detail_are_served_from_the_cache(alice_client, alice_workflow, django_assert_num_queries):
    _list(alice_client)
    _detail(alice_client, alice_workflow)
    # A change behind the services' back (no invalidation) stays invisible: the cached payload answers.
    Workflow.objects.filter(pk=alice_workflow.pk).update(name="changed behind the cache")

    with django_assert_num_queries(2):  # the session and its user, nothing about workflows
        assert _list(alice_client)["results"][0]["name"] == "Alice's flow"
    assert _detail(alice_client, alice_workflow)["name"] == "Alice's flow"


def test_each_search_and_page_is_cached_separately(alice_client, alice_workflow):
    assert alice_client.get("/api/workflows", {"search": "alice"}).json()["count"] == 1
    assert alice_client.get("/api/workflows", {"search": "nothing"}).json()["count"] == 0


def _update(client: APIClient, workflow: Workflow) -> None:
    client.put(f"/api/workflows/{workflow.pk}", workflow_payload(name="Updated", version=1), format="json")


def _restore(client: APIClient, workflow: Workflow) -> None:
    _update(client, workflow)
    _list(client), _detail(client, workflow)  # warm again after the update
    client.post(f"/api/workflows/{workflow.pk}/versions/1/restore")


WRITES: dict[str, tuple[Callable[[APIClient, Workflow], Any], Callable[[dict, dict], bool]]] = {
    "create": (
        lambda c, w: c.post("/api/workflows", workflow_payload(name="Created"), format="json"),
        lambda listing, detail: listing["count"] == 2,
    ),
    "update": (
        _update,
        lambda listing, detail: listing["results"][0]["name"] == "Updated" and detail["version"] == 2,
    ),
    "restore": (
        _restore,
        lambda listing, detail: listing["results"][0]["version"] == 3 and detail["name"] == "Alice's flow",
    ),
    "delete": (
        lambda c, w: c.delete(f"/api/workflows/{w.pk}"),
        lambda listing, detail: (
            listing["count"] == 0 and detail == {"detail": "No Workflow matches the given query."}
        ),
    ),
    "duplicate": (
        lambda c, w: c.post(f"/api/workflows/{w.pk}/duplicate"),
        lambda listing, detail: listing["count"] == 2,
    ),
    "import": (
        lambda c, w: c.post("/api/workflows/import", workflow_payload(name="Imported"), format="json"),
        lambda listing, detail: listing["results"][0]["name"] == "Imported",
    ),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_read_right_after_a_write_sees_the_write(alice_client, alice_workflow, write):
    perform, sees_it = WRITES[write]
    before = _list(alice_client), _detail(alice_client, alice_workflow)
    assert not sees_it(*before)

    perform(alice_client, alice_workflow)

    assert sees_it(_list(alice_client), _detail(alice_client, alice_workflow))


def test_one_users_write_leaves_another_users_cache_alone(alice_client, bob_client, bob, alice_workflow):
    bob_client.post("/api/workflows", workflow_payload(name="Bob's"), format="json")
    _list(bob_client)
    Workflow.objects.filter(owner=bob).update(name="changed behind the cache")

    alice_client.post("/api/workflows", workflow_payload(), format="json")

    assert _list(bob_client)["results"][0]["name"] == "Bob's"


def test_a_payload_computed_across_an_invalidation_is_never_served(alice):
    calls: list[str] = []

    def stale_compute() -> str:
        # A write commits and invalidates while this reader is still building its payload.
        owner_caches_invalidate(owner_id=alice.pk)
        calls.append("stale")
        return "stale"

    assert (
        workflow_cache.workflow_detail_cached(owner_id=alice.pk, workflow_id="w", compute=stale_compute)
        == "stale"
    )
    fresh = workflow_cache.workflow_detail_cached(owner_id=alice.pk, workflow_id="w", compute=lambda: "fresh")

    assert fresh == "fresh"


@pytest.mark.services
def test_payloads_live_in_redis_under_the_documented_keys_and_lifetimes(alice, alice_client, alice_workflow):
    assert os.environ.get("REDIS_URL")
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    _list(alice_client)
    _detail(alice_client, alice_workflow)

    detail_key = f"owner:{alice.pk}:workflow:{alice_workflow.pk}"
    assert 500 < cache.ttl(detail_key) <= 600
    list_key = f"owner:{alice.pk}:workflows:1|20|"
    assert 200 < cache.ttl(list_key) <= 300
    generation = cache.get(f"owner:{alice.pk}:generation")
    assert cache.get(detail_key)["generation"] == cache.get(list_key)["generation"] == generation

    alice_client.delete(f"/api/workflows/{alice_workflow.pk}")
    assert cache.get(f"owner:{alice.pk}:generation") == generation + 1
