"""The workflow CRUD endpoints: shapes, validation, optimistic concurrency, size limit and isolation."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from runs.models import RunStatus, WorkflowRun
from tests.factories import WorkflowFactory
from tests.graphs import node, text_to_debug_graph, workflow_payload
from workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db

DETAIL_KEYS = {
    "id",
    "name",
    "description",
    "nodes",
    "edges",
    "version",
    "isPublished",
    "createdAt",
    "updatedAt",
    "runCount",
    "lastRunStatus",
}
DETAIL_KEYS |= {"inputs", "outputs", "publishedVersion", "published", "notes", "groups"}
LIST_ITEM_KEYS = DETAIL_KEYS - {"nodes", "edges", "notes", "groups", "inputs", "outputs", "published"} | {
    "nodeCount"
}


def _url(workflow_id: object = None) -> str:
    return "/api/workflows" if workflow_id is None else f"/api/workflows/{workflow_id}"


# --- create -------------------------------------------------------------------------------------------


def test_create_returns_the_full_workflow_at_version_1_with_a_snapshot(alice, alice_client):
    response = alice_client.post(_url(), workflow_payload(name="Haiku", description="d"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["name"] == "Haiku"
    assert body["description"] == "d"
    assert body["version"] == 1
    assert body["nodes"] == text_to_debug_graph()["nodes"]
    assert body["edges"] == text_to_debug_graph()["edges"]
    assert body["runCount"] == 0
    assert body["lastRunStatus"] is None
    assert body["isPublished"] is False
    workflow = Workflow.objects.get(pk=body["id"])
    assert workflow.owner == alice
    snapshot = workflow.versions.get()
    assert (snapshot.number, snapshot.name, snapshot.nodes, snapshot.saved_by) == (
        1,
        "Haiku",
        workflow.nodes,
        alice,
    )


def test_create_ignores_read_only_fields_sent_by_the_client(alice, bob, alice_client):
    payload = workflow_payload(
        id=str(uuid.uuid4()),
        owner=bob.pk,
        version=42,
        isPublished=True,
        createdAt="2000-01-01T00:00:00Z",
        updatedAt="2000-01-01T00:00:00Z",
        runCount=7,
    )
    response = alice_client.post(_url(), payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != payload["id"]
    assert body["version"] == 1
    assert body["isPublished"] is False
    assert body["runCount"] == 0
    assert not body["createdAt"].startswith("2000")
    assert Workflow.objects.get(pk=body["id"]).owner == alice


def test_create_with_missing_fields_is_a_400_naming_each_field(alice_client):
    response = alice_client.post(_url(), {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [
        {"path": "name", "message": "This field is required."},
        {"path": "nodes", "message": "This field is required."},
        {"path": "edges", "message": "This field is required."},
    ]
    assert body["detail"] == "name: This field is required. (and 2 more problems)"


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"nodes": {"id": "x"}}, "nodes", 'Expected a list of items but got type "dict".'),
        ({"edges": "not a list"}, "edges", 'Expected a list of items but got type "str".'),
        ({"nodes": ["not an object"]}, "nodes[0]", 'Expected a dictionary of items but got type "str".'),
        ({"name": "x" * 201}, "name", "Ensure this field has no more than 200 characters."),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"description": "x" * 5001}, "description", "Ensure this field has no more than 5000 characters."),
    ],
)
def test_create_with_a_badly_shaped_body_is_a_400_with_the_field_path(alice_client, change, path, message):
    response = alice_client.post(_url(), workflow_payload(**change), format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": f"{path}: {message}", "errors": [{"path": path, "message": message}]}
    assert not Workflow.objects.exists()


def test_create_with_an_invalid_graph_is_a_400_with_the_engine_paths(alice_client):
    payload = workflow_payload()
    payload["nodes"] += [node("llm-1", "llm", temperature=9), node("odd", "teleporter")]

    response = alice_client.post(_url(), payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The workflow graph is invalid."
    paths = {error["path"] for error in body["errors"]}
    assert "nodes[2].data.temperature" in paths
    assert "nodes[3].type" in paths
    assert not Workflow.objects.exists()


def test_a_half_built_workflow_saves_as_a_draft_but_does_not_run(alice_client):
    payload = workflow_payload()
    payload["nodes"].append(node("llm-1", "llm"))

    created = alice_client.post(_url(), payload, format="json")
    executed = alice_client.post("/api/execute", {"workflowId": created.json()["id"]}, format="json")

    assert created.status_code == 201
    assert executed.status_code == 400
    assert executed.json()["errors"] == [
        {"path": "nodes[2]", "message": "required input 'prompt' has no incoming edge"}
    ]


def test_create_over_the_graph_limits_is_a_400(alice_client, settings):
    settings.GRAPH_MAX_NODES = 1

    response = alice_client.post(_url(), workflow_payload(), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "nodes"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("nul \x00 byte", {"path": "nodes[0].data.text", "message": "must not contain NUL characters."}),
        (
            "lone \ud800 surrogate",
            {
                "path": "body",
                "message": "JSON parse error - a string holds an unpaired surrogate escape, which is no "
                "Unicode character.",
            },
        ),
    ],
)
def test_create_with_unstorable_text_in_the_graph_is_a_400_not_a_500(alice_client, bad, error):
    # Every endpoint and place is covered in tests/security/test_json_input.py.
    body = json.dumps(workflow_payload(text="ok")).replace('"ok"', json.dumps(bad))

    response = alice_client.post(_url(), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == [error]
    assert not Workflow.objects.exists()


def test_a_body_over_1_mib_is_refused_with_413(alice_client):
    payload = workflow_payload(text="x" * (settings.WEFT_MAX_BODY_BYTES + 1))

    response = alice_client.post(_url(), payload, format="json")

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not Workflow.objects.exists()


def test_anonymous_requests_are_401(anon_client, alice_workflow):
    assert anon_client.get(_url()).status_code == 401
    assert anon_client.post(_url(), workflow_payload(), format="json").status_code == 401
    assert anon_client.get(_url(alice_workflow.pk)).status_code == 401
    assert anon_client.get("/api/node-kinds").status_code == 401


def test_a_bearer_token_authenticates_like_a_session(alice_token_client):
    response = alice_token_client.post(_url(), workflow_payload(), format="json")

    assert response.status_code == 201
    assert alice_token_client.get(_url()).json()["count"] == 1


# --- list ---------------------------------------------------------------------------------------------


def _make_workflows(owner, count: int, **fields) -> list[Workflow]:
    base = timezone.now()
    return [
        WorkflowFactory(owner=owner, created_at=base - timezone.timedelta(minutes=count - i), **fields)
        for i in range(count)
    ]


def test_list_is_newest_first_with_run_summary_and_node_count(alice, alice_client):
    older, newer = _make_workflows(alice, 2)
    # As the runs app stores them (tests/runs/test_workflow_summary.py).
    Workflow.objects.filter(pk=older.pk).update(run_count=2, last_run_status=RunStatus.SUCCEEDED)

    response = alice_client.get(_url())

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [item["id"] for item in body["results"]] == [str(newer.pk), str(older.pk)]
    first, second = body["results"]
    assert set(first) == LIST_ITEM_KEYS
    assert (first["runCount"], first["lastRunStatus"], first["nodeCount"]) == (0, None, 2)
    assert (second["runCount"], second["lastRunStatus"]) == (2, "succeeded")


def test_list_paginates_with_page_and_limit(alice, alice_client):
    workflows = _make_workflows(alice, 5)

    first = alice_client.get(_url(), {"limit": 2}).json()
    second = alice_client.get(first["next"]).json()
    third = alice_client.get(second["next"]).json()

    assert first["count"] == 5
    assert [w["id"] for w in first["results"] + second["results"] + third["results"]] == [
        str(w.pk) for w in reversed(workflows)
    ]
    assert "page=2" in first["next"]
    assert third["next"] is None
    assert "page" not in second["previous"]
    assert alice_client.get(second["previous"]).json() == first


def test_list_search_matches_name_or_description_case_insensitively(alice, alice_client):
    WorkflowFactory(owner=alice, name="Summarise news")
    WorkflowFactory(owner=alice, name="Other", description="writes a NEWSletter")
    WorkflowFactory(owner=alice, name="Unrelated")

    body = alice_client.get(_url(), {"search": "news"}).json()

    assert body["count"] == 2
    assert {item["name"] for item in body["results"]} == {"Summarise news", "Other"}


@pytest.mark.parametrize("count", [3, 30])
def test_list_costs_the_same_number_of_queries_whatever_the_page_size(
    alice, alice_client, django_assert_num_queries, count
):
    _make_workflows(alice, count)

    # Session and user lookups, the count, and the page: 4 for any page size.
    with django_assert_num_queries(4):
        response = alice_client.get(_url(), {"limit": 100})

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("route", ["", "/{id}", "/{id}/versions", "/{id}/versions/1"])
def test_the_browsable_api_renders_for_a_logged_in_user(alice_client, alice_workflow, route):
    response = alice_client.get(_url() + route.format(id=alice_workflow.pk), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Alice&#x27;s flow" in response.content.decode()


# --- get / put / delete -------------------------------------------------------------------------------


def test_get_returns_the_workflow_with_its_graph(alice_client, alice_workflow):
    response = alice_client.get(_url(alice_workflow.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["id"] == str(alice_workflow.pk)
    assert body["nodes"] == alice_workflow.nodes
    assert body["edges"] == alice_workflow.edges


def test_get_of_an_unknown_id_is_404(alice_client):
    assert alice_client.get(_url(uuid.uuid4())).status_code == 404


def test_put_replaces_the_workflow_and_increments_the_version(alice, alice_client, alice_workflow):
    payload = workflow_payload(name="Renamed", text="changed", description="new", version=1)

    response = alice_client.put(_url(alice_workflow.pk), payload, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["version"]) == ("Renamed", "new", 2)
    assert body["nodes"][0]["data"]["text"] == "changed"
    assert list(alice_workflow.versions.values_list("number", "name")) == [
        (2, "Renamed"),
        (1, "Alice's flow"),
    ]
    assert alice_workflow.versions.get(number=2).saved_by == alice


def test_put_of_a_stale_version_is_409_with_the_current_version_and_changes_nothing(
    alice_client, alice_workflow
):
    first_tab = workflow_payload(name="Tab one", version=1)
    second_tab = workflow_payload(name="Tab two", version=1)
    assert alice_client.put(_url(alice_workflow.pk), first_tab, format="json").status_code == 200

    response = alice_client.put(_url(alice_workflow.pk), second_tab, format="json")

    assert response.status_code == 409
    assert response.json()["currentVersion"] == 2
    assert "version 2" in response.json()["detail"]
    alice_workflow.refresh_from_db()
    assert (alice_workflow.name, alice_workflow.version) == ("Tab one", 2)
    assert alice_workflow.versions.count() == 2


def test_put_ignores_read_only_fields(bob, alice_client, alice_workflow):
    payload = workflow_payload(version=1, owner=bob.pk, createdAt="2000-01-01T00:00:00Z", isPublished=True)

    body = alice_client.put(_url(alice_workflow.pk), payload, format="json").json()

    assert body["version"] == 2
    assert body["isPublished"] is False
    assert body["createdAt"] == alice_workflow.created_at.isoformat().replace("+00:00", "Z")
    alice_workflow.refresh_from_db()
    assert alice_workflow.owner.email == "alice@example.com"


def test_put_without_a_version_or_with_an_invalid_graph_is_400(alice_client, alice_workflow):
    missing = alice_client.put(_url(alice_workflow.pk), workflow_payload(), format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"path": "version", "message": "This field is required."}]

    broken = workflow_payload(version=1)
    broken["edges"][0]["target"] = "nowhere"
    response = alice_client.put(_url(alice_workflow.pk), broken, format="json")
    assert response.status_code == 400
    assert "edges[0].target" in {error["path"] for error in response.json()["errors"]}
    alice_workflow.refresh_from_db()
    assert alice_workflow.version == 1


def test_delete_removes_the_workflow_and_versions_but_its_runs_survive(alice, alice_client, alice_workflow):
    run = WorkflowRun.objects.create(owner=alice, workflow=alice_workflow, **alice_workflow.graph)

    response = alice_client.delete(_url(alice_workflow.pk))

    assert response.status_code == 204
    assert not Workflow.objects.exists()
    assert not WorkflowVersion.objects.exists()
    run.refresh_from_db()
    assert run.workflow is None
    assert run.nodes == text_to_debug_graph()["nodes"]
    assert alice_client.get(_url(alice_workflow.pk)).status_code == 404


# --- isolation ----------------------------------------------------------------------------------------

ROUTES = [
    ("get", "{url}", None),
    ("put", "{url}", "update"),
    ("delete", "{url}", None),
    ("get", "{url}/versions", None),
    ("get", "{url}/versions/1", None),
    ("post", "{url}/versions/1/restore", None),
    ("post", "{url}/duplicate", None),
    ("get", "{url}/export", None),
]


@pytest.mark.parametrize(("method", "route", "body"), ROUTES)
def test_another_users_workflow_is_404_on_every_route(bob_client, alice_workflow, method, route, body):
    data = workflow_payload(version=1) if body == "update" else None

    response = getattr(bob_client, method)(route.format(url=_url(alice_workflow.pk)), data, format="json")

    assert response.status_code == 404
    alice_workflow.refresh_from_db()
    assert alice_workflow.version == 1
    assert Workflow.objects.count() == 1


def test_another_users_workflows_are_not_listed_or_found_by_search(bob_client, alice_workflow):
    assert bob_client.get(_url()).json()["count"] == 0
    assert bob_client.get(_url(), {"search": "Alice"}).json()["count"] == 0


@pytest.mark.parametrize(
    "path", ["/api/workflows/not-a-uuid", "/api/workflows/a%2Fb/versions", "/api/nowhere"]
)
def test_a_malformed_api_url_is_a_json_404(alice_client, path):
    response = alice_client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
