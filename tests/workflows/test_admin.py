"""The workflow admin: list with run counts, search, filters, read-only versions, cache-aware edits."""

from __future__ import annotations

import pytest

from runs.services import run_create
from tests.factories import UserFactory, WorkflowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))
    return client


def test_changelist_shows_owner_version_and_run_count_in_fixed_queries(
    staff_client, alice, bob, settings, django_assert_max_num_queries
):
    settings.RUN_MAX_ACTIVE_PER_USER = 5
    for owner in (alice, bob) * 5:
        workflow = WorkflowFactory(owner=owner)
        run_create(owner=owner, graph=workflow.graph, workflow=workflow, enqueue=False)

    with django_assert_max_num_queries(8):
        response = staff_client.get("/admin/workflows/workflow/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 10
    assert all(row.run_count == 1 for row in response.context["cl"].result_list)


def test_changelist_searches_by_name_and_owner_email_and_filters(staff_client, alice, bob):
    WorkflowFactory(owner=alice, name="Newsletter")
    WorkflowFactory(owner=bob, name="Other", is_published=True, published_version=1)

    by_name = staff_client.get("/admin/workflows/workflow/", {"q": "newsletter"})
    by_email = staff_client.get("/admin/workflows/workflow/", {"q": "bob@example"})
    published = staff_client.get("/admin/workflows/workflow/", {"is_published__exact": "1"})

    assert [w.name for w in by_name.context["cl"].result_list] == ["Newsletter"]
    assert [w.name for w in by_email.context["cl"].result_list] == ["Other"]
    assert [w.name for w in published.context["cl"].result_list] == ["Other"]


def test_change_page_shows_versions_read_only_and_edits_drop_the_cache(
    staff_client, alice_client, alice_workflow, django_capture_on_commit_callbacks
):
    alice_view = f"/api/workflows/{alice_workflow.pk}"
    assert alice_client.get(alice_view).json()["name"] == "Alice's flow"

    page = staff_client.get(f"/admin/workflows/workflow/{alice_workflow.pk}/change/")
    assert page.status_code == 200
    inline = page.context["inline_admin_formsets"][0]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert "Alice&#x27;s flow" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):  # the caches move when the edit commits
        saved = staff_client.post(
            f"/admin/workflows/workflow/{alice_workflow.pk}/change/",
            {
                "name": "Renamed by staff",
                "description": "",
                "is_published": "on",
                "versions-TOTAL_FORMS": "1",
                "versions-INITIAL_FORMS": "1",
                "versions-MIN_NUM_FORMS": "0",
                "versions-MAX_NUM_FORMS": "1000",
            },
        )
    assert saved.status_code == 302
    assert alice_client.get(alice_view).json()["name"] == "Renamed by staff"
    # Publishing is read-only here: it goes through the API, which checks that the version can run.
    assert alice_client.get(alice_view).json()["isPublished"] is False
