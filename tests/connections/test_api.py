"""The connections API: write-only secrets, ownership, validation, SSRF refusals, test and models calls."""

from __future__ import annotations

import json

import pytest

from connections.models import Connection
from tests.connections.helpers import HEADER_SECRET, SECRET, create_on_fake
from tests.fakes.llm_server import FakeLLMServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_allowed(settings):
    settings.PROVIDER_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def _leaks(response) -> bool:
    body = response.content.decode()
    return SECRET in body or HEADER_SECRET in body


def test_a_created_connection_shows_that_a_secret_is_set_and_never_the_secret(
    alice_client, fake_llm: FakeLLMServer, local_allowed
):
    created = create_on_fake(alice_client, fake_llm)

    assert created["secretSet"] is True
    assert created["secretLast4"] == "7f3a"
    assert created["headerNames"] == ["X-Team"]
    assert "secret" not in created
    assert "headers" not in created
    for response in (
        alice_client.get("/api/connections"),
        alice_client.get(f"/api/connections/{created['id']}"),
        alice_client.patch(f"/api/connections/{created['id']}", {"name": "Renamed"}, format="json"),
    ):
        assert response.status_code == 200
        assert not _leaks(response)


def test_the_stored_row_holds_no_secret_in_clear(alice_client, fake_llm: FakeLLMServer, local_allowed):
    created = create_on_fake(alice_client, fake_llm)

    row = Connection.objects.values().get(pk=created["id"])
    assert SECRET not in json.dumps(row, default=str)
    assert HEADER_SECRET not in json.dumps(row, default=str)
    assert Connection.objects.get(pk=created["id"]).secret == SECRET


def test_a_patch_without_a_secret_keeps_it_and_with_one_replaces_it(
    alice_client, fake_llm: FakeLLMServer, local_allowed
):
    created = create_on_fake(alice_client, fake_llm)
    url = f"/api/connections/{created['id']}"

    alice_client.patch(url, {"name": "Renamed"}, format="json")
    assert Connection.objects.get(pk=created["id"]).secret == SECRET

    changed = alice_client.patch(url, {"secret": "sk-another-key-0000"}, format="json").json()
    assert changed["secretLast4"] == "0000"
    assert Connection.objects.get(pk=created["id"]).secret == "sk-another-key-0000"


def test_the_list_holds_only_my_connections_in_fixed_queries(
    alice_client, bob_client, fake_llm: FakeLLMServer, local_allowed, django_assert_max_num_queries
):
    for number in range(3):
        create_on_fake(alice_client, fake_llm, slug=f"mine-{number}")
    create_on_fake(bob_client, fake_llm, slug="bobs")

    with django_assert_max_num_queries(4):  # session, user, count, page
        listed = alice_client.get("/api/connections").json()

    assert [item["slug"] for item in listed["results"]] == ["mine-2", "mine-1", "mine-0"]
    assert bob_client.get("/api/connections").json()["count"] == 1


def test_another_users_connection_is_a_404_on_every_endpoint(
    alice_client, bob_client, fake_llm: FakeLLMServer, local_allowed
):
    url = f"/api/connections/{create_on_fake(alice_client, fake_llm)['id']}"

    for response in (
        bob_client.get(url),
        bob_client.patch(url, {"name": "mine now"}, format="json"),
        bob_client.delete(url),
        bob_client.post(f"{url}/test"),
        bob_client.get(f"{url}/models"),
    ):
        assert response.status_code == 404
        assert not _leaks(response)
    assert fake_llm.requests == []
    assert Connection.objects.get(slug="mine").name == "My server"


def test_a_slug_is_unique_per_owner_and_bad_fields_name_their_path(
    alice_client, bob_client, fake_llm: FakeLLMServer, local_allowed
):
    create_on_fake(alice_client, fake_llm)
    create_on_fake(bob_client, fake_llm)  # Bob may use the same slug

    again = alice_client.post(
        "/api/connections", {"name": "x", "slug": "mine", "kind": "openai"}, format="json"
    )
    bad = alice_client.post(
        "/api/connections", {"name": "x", "slug": "not a slug/", "kind": "nope"}, format="json"
    )

    assert again.status_code == 400
    assert again.json()["errors"][0]["path"] == "slug"
    assert bad.status_code == 400
    assert {error["path"] for error in bad.json()["errors"]} == {"slug", "kind"}


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://127.0.0.1:11434/v1", "127.0.0.1 is a loopback address"),
        ("http://localhost:11434/v1", "localhost resolves to a loopback address"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("http://10.1.2.3:8000/v1", "10.1.2.3 is a private address"),
        ("ftp://example.com/v1", "only http and https URLs are allowed"),
        ("http://user:pw@example.com/v1", "a URL with a user name or password is not allowed"),
    ],
)
def test_a_user_url_reaching_inside_the_network_is_refused_naming_the_rule(alice_client, url, rule):
    response = alice_client.post(
        "/api/connections",
        {"name": "x", "slug": "inside", "kind": "openai", "baseUrl": url, "secret": SECRET},
        format="json",
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "baseUrl"
    assert rule in error["message"]
    assert SECRET not in response.content.decode()


def test_a_url_allowed_when_saved_is_refused_at_call_time_once_it_is_not(
    alice_client, fake_llm: FakeLLMServer, settings
):
    settings.PROVIDER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    url = f"/api/connections/{create_on_fake(alice_client, fake_llm)['id']}"
    settings.PROVIDER_ALLOWED_NETWORKS = []

    tested = alice_client.post(f"{url}/test").json()

    assert tested["ok"] is False
    assert "is a loopback address" in tested["detail"]
    assert fake_llm.requests == []


def test_testing_a_connection_lists_its_models_with_the_key(
    alice_client, fake_llm: FakeLLMServer, local_allowed
):
    url = f"/api/connections/{create_on_fake(alice_client, fake_llm)['id']}"

    tested = alice_client.post(f"{url}/test")
    models = alice_client.get(f"{url}/models")

    assert tested.json() == {"ok": True, "detail": "Connected: 2 models available."}
    assert models.json() == {
        "models": [
            {"id": "mine/fake-chat", "connection": "mine", "modelId": "fake-chat"},
            {"id": "mine/fake-vision", "connection": "mine", "modelId": "fake-vision"},
        ]
    }
    assert fake_llm.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert fake_llm.requests[0].headers["x-team"] == HEADER_SECRET
    assert Connection.objects.get(slug="mine").last_used_at is not None


def test_a_failed_test_says_what_the_provider_said_and_never_the_secret(
    alice_client, fake_llm: FakeLLMServer, local_allowed
):
    url = f"/api/connections/{create_on_fake(alice_client, fake_llm)['id']}"
    fake_llm.fail_next("openai", status=401)
    fake_llm.fail_next("openai", status=500)

    tested = alice_client.post(f"{url}/test")
    models = alice_client.get(f"{url}/models")

    assert tested.json() == {"ok": False, "detail": "HTTP 401: fake 401"}
    assert models.status_code == 424
    assert "HTTP 500" in models.json()["detail"]
    assert not _leaks(tested)
    assert not _leaks(models)


def test_provider_calls_are_rate_limited_per_user(
    alice_client, fake_llm: FakeLLMServer, local_allowed, settings
):
    settings.CONNECTION_CALL_RATE_LIMIT = "2/m"
    url = f"/api/connections/{create_on_fake(alice_client, fake_llm)['id']}"

    statuses = [alice_client.post(f"{url}/test").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_non_model_connection_has_no_models(alice_client):
    created = alice_client.post(
        "/api/connections",
        {"name": "Hook", "slug": "hook", "kind": "http", "headerName": "X-Api-Key", "secret": SECRET},
        format="json",
    ).json()

    response = alice_client.get(f"/api/connections/{created['id']}/models")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "kind"
    assert created["headerName"] == "X-Api-Key"


def test_an_mcp_connection_needs_its_servers_url(alice_client):
    response = alice_client.post(
        "/api/connections", {"name": "Tools", "slug": "tools", "kind": "mcp"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "baseUrl"


def test_the_schema_documents_the_connection_operations(alice_client):
    paths = alice_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert {"get", "post"} <= set(paths["/api/connections"])
    assert {"get", "patch", "delete"} <= set(paths["/api/connections/{connection_id}"])
    assert "post" in paths["/api/connections/{connection_id}/test"]
    assert "get" in paths["/api/connections/{connection_id}/models"]


def test_the_models_i_can_pick_are_the_sites_and_mine_with_abilities_and_prices(
    alice_client, bob_client, fake_llm: FakeLLMServer, local_allowed, settings, django_assert_max_num_queries
):
    settings.GEMINI_API_KEY = "site-gemini-key"
    settings.GROQ_API_KEY = None
    create_on_fake(alice_client, fake_llm, local=True)

    with django_assert_max_num_queries(3):  # session, user, connections
        models = {entry["id"]: entry for entry in alice_client.get("/api/models").json()["models"]}
    bobs = {entry["id"] for entry in bob_client.get("/api/models").json()["models"]}

    assert models["gemini/gemini-2.5-flash"] == {
        "id": "gemini/gemini-2.5-flash",
        "connection": "gemini",
        "modelId": "gemini-2.5-flash",
        "capabilities": {"vision": True, "json": True, "tools": True, "streaming": True},
        "inputPricePerMillion": 0.3,
        "outputPricePerMillion": 2.5,
    }
    assert models["mine/fake-chat"]["capabilities"]["vision"] is None
    assert (
        models["mine/fake-chat"]["inputPricePerMillion"],
        models["mine/fake-chat"]["outputPricePerMillion"],
    ) == (
        0.0,
        0.0,
    )
    assert not [name for name in models if name.startswith("groq/")]
    assert "mine/fake-chat" not in bobs
    assert "gemini/gemini-2.5-flash" in bobs
    assert SECRET not in json.dumps(models)


def test_a_secret_or_header_value_that_cannot_travel_in_a_header_is_a_400(alice_client):
    base = {"name": "x", "slug": "x", "kind": "openai"}

    secret = alice_client.post("/api/connections", {**base, "secret": "ключ-1234"}, format="json")
    header = alice_client.post("/api/connections", {**base, "headers": {"X-A": "a\nb"}}, format="json")

    assert [error["path"] for error in secret.json()["errors"]] == ["secret"]
    assert [error["path"] for error in header.json()["errors"]] == ["headers"]
    assert "ключ" not in secret.content.decode()
    assert alice_client.get("/api/models").status_code == 200
