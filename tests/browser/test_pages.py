"""End to end in Chromium: the workflows list (search, rename, duplicate, delete, import, export), API tokens,
logging out and in, password reset. Plus the page views' access rules, through Django's test client."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, sign_up, write_graph_file
from workflows.models import Workflow


@pytest.mark.browser
def test_workflow_list_actions_tokens_and_auth(page, site, tmp_path, artifacts):
    sign_up(page, site)
    page.locator("#import-file").set_input_files(write_graph_file(tmp_path, "Owl facts"))
    expect(page.locator(".card")).to_have_count(1)
    page.locator("#import-file").set_input_files(write_graph_file(tmp_path, "Bat facts"))
    expect(page.locator(".card")).to_have_count(2)
    expect(page.locator(".card").first).to_contain_text("4 nodes")

    # A file that is not a workflow is refused with a message; the list is unchanged.
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    page.locator("#import-file").set_input_files(broken)
    expect(page.locator(".toast--error")).to_contain_text("not valid JSON")
    expect(page.locator(".card")).to_have_count(2)

    page.get_by_label("Search workflows").fill("owl")
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".card")).to_contain_text("Owl facts")
    page.get_by_label("Search workflows").fill("zebra")
    expect(page.get_by_text("No workflow matches")).to_be_visible()
    page.get_by_label("Search workflows").fill("")
    expect(page.locator(".card")).to_have_count(2)

    page.get_by_role("button", name="Rename Owl facts").click()
    page.get_by_label("Name", exact=True).fill("Owl trivia")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(page.locator(".card").filter(has_text="Owl trivia")).to_have_count(1)

    page.get_by_role("button", name="Duplicate Owl trivia").click()
    expect(page.locator(".card")).to_have_count(3)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export Bat facts").click()
    exported = json.loads(download_info.value.path().read_text())
    assert exported["name"] == "Bat facts (imported)"
    assert len(exported["nodes"]) == 4

    # Delete asks first; Cancel keeps the workflow, Delete removes it.
    page.get_by_role("button", name="Delete Bat facts").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".card")).to_have_count(3)
    page.get_by_role("button", name="Delete Bat facts").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".card")).to_have_count(2)
    expect(page.locator(".card").filter(has_text="Bat facts")).to_have_count(0)
    page.screenshot(path=str(artifacts / "workflows.png"))

    # API tokens: created (shown once) and revoked.
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token-value")).to_have_text(re.compile(r"^weft_"))
    expect(page.locator("#token-rows tr")).to_have_count(1)
    page.get_by_role("button", name="Revoke token ci").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No tokens yet.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{site}/accounts/login/")
    page.goto(f"{site}/workflows/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/workflows/$"))
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{site}/workflows/")
    expect(page.locator(".card")).to_have_count(2)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{site}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/done/$"))
    expect(page.locator(".auth-card")).to_be_visible()


@pytest.mark.django_db
def test_home_sends_visitors_to_log_in_and_members_to_their_workflows(client, alice):
    assert client.get("/").url == "/accounts/login/"
    client.force_login(alice)
    assert client.get("/").url == "/workflows/"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/workflows/", "/runs/", "/approvals/", "/settings/tokens/"])
def test_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_editor_of_someone_elses_workflow_is_a_404(client, alice, bob):
    workflow = Workflow.objects.create(owner=alice, name="Alice's", nodes=[], edges=[])
    client.force_login(bob)
    missing = client.get(f"/workflows/{workflow.id}/")
    assert missing.status_code == 404
    assert "belongs to someone else" in missing.content.decode()
    client.force_login(alice)
    response = client.get(f"/workflows/{workflow.id}/")
    assert response.status_code == 200
    # Bootstrapped through json_script and a module file: no inline script for the CSP to block.
    html = response.content.decode()
    assert '<script id="workflow-bootstrap" type="application/json">' in html
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))[^>]*>", html) == []


@pytest.mark.django_db
def test_run_page_of_someone_elses_run_is_a_404(client, alice, bob):
    from runs.models import WorkflowRun

    run = WorkflowRun.objects.create(owner=alice, nodes=[], edges=[])
    client.force_login(bob)
    assert client.get(f"/runs/{run.id}/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/runs/{run.id}/").status_code == 200


@pytest.mark.django_db
def test_auth_pages_use_weft_layout(client):
    for path in ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        html = client.get(path).content.decode()
        assert 'class="auth-card"' in html, path
        assert "css/weft.css" in html, path
