"""Every list of the API pages the same way (core.pagination): `?page=&limit=`, the same 400 for a
bad value, the same 404 past the last page, the same links, and a number of queries that does not grow
with the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from runs.models import Approval, RunStatus
from tests.factories import ExecutionLogFactory, WorkflowFactory, WorkflowRunFactory
from uploads.models import Upload

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Listing:
    url: str
    add: Callable[[int], None]  # adds that many items to the list
    max_queries: int  # session and user, then what the list needs


def _workflows(alice: User) -> Listing:
    return Listing("/api/workflows", lambda n: WorkflowFactory.create_batch(n, owner=alice), 4)


def _runs(alice: User) -> Listing:
    def add(n: int) -> None:
        for _ in range(n):
            WorkflowRunFactory(owner=alice, workflow=WorkflowFactory(owner=alice))

    return Listing("/api/runs", add, 4)


def _uploads(alice: User) -> Listing:
    def add(n: int) -> None:
        for _ in range(n):
            Upload.objects.create(
                owner=alice,
                storage_key=f"uploads/test/{Upload.objects.count()}.png",
                content_type="image/png",
                width=1,
                height=1,
                size=1,
            )

    return Listing("/api/uploads", add, 4)


def _logs(alice: User) -> Listing:
    run = WorkflowRunFactory(owner=alice)
    return Listing(f"/api/runs/{run.id}/logs", lambda n: ExecutionLogFactory.create_batch(n, run=run), 5)


def _approvals(alice: User) -> Listing:
    def add(n: int) -> None:
        for _ in range(n):
            run = WorkflowRunFactory(owner=alice, status=RunStatus.WAITING)
            deadline = timezone.now() + timedelta(hours=1)
            Approval.objects.create(run=run, owner=alice, node_id="a", on_timeout="reject", deadline=deadline)

    return Listing("/api/approvals", add, 4)


LISTINGS = {
    "workflows": _workflows,
    "runs": _runs,
    "uploads": _uploads,
    "logs": _logs,
    "approvals": _approvals,
}


@pytest.fixture(params=LISTINGS)
def listing(request, alice) -> Listing:
    return LISTINGS[request.param](alice)


def test_pages_walk_the_list_with_next_and_previous_links(alice_client, listing):
    listing.add(5)

    first = alice_client.get(listing.url, {"limit": 2}).json()
    second = alice_client.get(first["next"]).json()
    last = alice_client.get(second["next"]).json()

    assert [page["count"] for page in (first, second, last)] == [5, 5, 5]
    assert [len(page["results"]) for page in (first, second, last)] == [2, 2, 1]
    assert (first["previous"], last["next"]) == (None, None)
    assert alice_client.get(last["previous"]).json()["results"] == second["results"]
    assert alice_client.get(second["previous"]).json()["results"] == first["results"]


def test_the_default_limit_is_20(alice_client, listing):
    listing.add(21)

    body = alice_client.get(listing.url).json()

    assert (body["count"], len(body["results"])) == (21, 20)
    assert body["next"].endswith("page=2")


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_a_bad_page_or_limit_is_a_400_naming_it(alice_client, listing, query, path):
    response = alice_client.get(listing.url, query)

    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == [path]


def test_a_page_past_the_last_is_a_404_and_an_empty_list_is_an_empty_first_page(alice_client, listing):
    assert alice_client.get(listing.url).json() == {"count": 0, "next": None, "previous": None, "results": []}
    listing.add(2)

    assert alice_client.get(listing.url, {"limit": 2, "page": 1}).status_code == 200
    assert alice_client.get(listing.url, {"limit": 2, "page": 2}).status_code == 404


@pytest.mark.parametrize("size", [3, 30])
def test_a_page_costs_the_same_queries_whatever_its_size(
    alice_client, listing, django_assert_max_num_queries, size
):
    listing.add(size)

    with django_assert_max_num_queries(listing.max_queries):
        body = alice_client.get(listing.url, {"limit": 100}).json()

    assert len(body["results"]) == size


def test_every_list_documents_the_same_page_parameters(alice_client):
    schema = alice_client.get("/api/schema/", {"format": "json"}).json()
    lists = {
        "/api/workflows": "get",
        "/api/runs": "get",
        "/api/uploads": "get",
        "/api/runs/{run_id}/logs": "get",
        "/api/approvals": "get",
    }

    for path, method in lists.items():
        operation = schema["paths"][path][method]
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert parameters["page"]["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 2**31 - 1,
            "default": 1,
        }, path
        assert parameters["limit"]["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": 20,
        }, path
        assert {"200", "400", "404"} <= set(operation["responses"]), path


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/workflows", "/api/runs"])
def test_a_page_past_the_documented_range_is_a_400_naming_page(alice_client, url):
    response = alice_client.get(url, {"page": 2**31})

    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == ["page"]
