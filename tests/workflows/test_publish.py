"""Publishing pins a version for API, webhook and schedule runs; the detail shows it with its interface."""

from __future__ import annotations

import pytest

from tests.graphs import callable_graph, text_to_debug_graph
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_update

pytestmark = pytest.mark.django_db


def _publish_url(workflow: Workflow) -> str:
    return f"/api/workflows/{workflow.pk}/publish"


@pytest.fixture
def writer(alice) -> Workflow:
    workflow = workflow_create(owner=alice, name="Writer", **callable_graph())
    return workflow_update(
        workflow=workflow,
        name="Writer",
        description="",
        expected_version=1,
        saved_by=alice,
        **callable_graph(template="v2 {{topic}}"),
    )


def test_the_detail_shows_the_interface_of_the_current_graph(alice_client, writer):
    body = alice_client.get(f"/api/workflows/{writer.pk}").json()

    assert [(i["name"], i["type"], i["required"], i["default"]) for i in body["inputs"]] == [
        ("topic", "text", True, None),
        ("style", "text", False, "plain"),
        ("photo", "image", False, None),
    ]
    assert [o["name"] for o in body["outputs"]] == ["answer", "style", "photo"]
    assert (body["isPublished"], body["publishedVersion"], body["published"]) == (False, None, None)


def test_publishing_defaults_to_the_current_version_and_shows_its_interface(alice_client, writer):
    response = alice_client.post(_publish_url(writer), format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["isPublished"], body["publishedVersion"]) == (True, 2)
    assert body["published"]["version"] == 2
    assert [i["name"] for i in body["published"]["inputs"]] == ["topic", "style", "photo"]
    # The cached detail follows.
    assert alice_client.get(f"/api/workflows/{writer.pk}").json()["publishedVersion"] == 2


def test_an_older_version_can_be_published_and_editing_keeps_it(
    alice, alice_client, writer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the cached detail goes stale at commit
        alice_client.post(_publish_url(writer), {"version": 1}, format="json")
        workflow_update(
            workflow=writer,
            name="Writer",
            description="",
            expected_version=2,
            saved_by=alice,
            **text_to_debug_graph(),
        )

    body = alice_client.get(f"/api/workflows/{writer.pk}").json()

    assert (body["version"], body["publishedVersion"]) == (3, 1)
    assert body["inputs"] == []  # the current graph has no Input node ...
    assert [i["name"] for i in body["published"]["inputs"]] == ["topic", "style", "photo"]  # ... v1 has


def test_unpublishing_clears_the_version(alice_client, writer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(_publish_url(writer), format="json")

    response = alice_client.delete(_publish_url(writer))

    assert response.status_code == 200
    assert (response.json()["isPublished"], response.json()["publishedVersion"]) == (False, None)


@pytest.mark.parametrize(("version", "status"), [(9, 404), (0, 400), ("two", 400)])
def test_publishing_a_version_that_does_not_exist_is_refused(alice_client, writer, version, status):
    response = alice_client.post(_publish_url(writer), {"version": version}, format="json")

    assert response.status_code == status
    assert Workflow.objects.get(pk=writer.pk).published_version is None


def test_a_version_that_cannot_run_cannot_be_published(alice, alice_client):
    draft = callable_graph()
    draft["nodes"].append(
        {"id": "twin", "type": "input", "position": {"x": 0, "y": 0}, "data": {"name": "topic"}}
    )
    draft["edges"] = [e for e in draft["edges"] if e["target"] != "answer"]  # the Output has no value
    workflow = workflow_create(owner=alice, name="Half drawn", **draft)

    response = alice_client.post(_publish_url(workflow), format="json")

    assert response.status_code == 400
    messages = {(e["path"], e["message"]) for e in response.json()["errors"]}
    assert ("nodes[7].data.name", "input name 'topic' is already used by nodes[0]") in messages
    assert ("nodes[4]", "required input 'value' has no incoming edge") in messages
    assert Workflow.objects.get(pk=workflow.pk).is_published is False


def test_another_users_workflow_cannot_be_published_or_unpublished(bob_client, writer):
    assert bob_client.post(_publish_url(writer), format="json").status_code == 404
    assert bob_client.delete(_publish_url(writer)).status_code == 404
    assert Workflow.objects.get(pk=writer.pk).published_version is None


def test_the_schema_documents_the_interface_and_publishing(alice_client):
    schema = alice_client.get("/api/schema/", {"format": "json"}).json()

    workflow = schema["components"]["schemas"]["Workflow"]["properties"]
    assert "Input and Output nodes" in workflow["inputs"]["description"]
    assert "post" in schema["paths"]["/api/workflows/{workflow_id}/publish"]
    runs = schema["paths"]["/api/workflows/{workflow_id}/runs"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in runs["parameters"]]
    assert set(runs["responses"]) >= {"200", "202", "400", "404", "409", "429"}
