"""HTTP Request nodes with `auth`: the headers of the owner's HTTP connection (or the site's) added at call
time, its secrets stored nowhere, a connection that is not there a 400 on execute or a failed node."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from connections.models import Connection, ConnectionKind
from runs.driving import run_execute
from runs.models import WorkflowRun
from runs.services import run_create
from tests.fakes.http_servers import EchoServer
from tests.graphs import edge, graph, node

SECRET = "Bearer weather-secret-5d1c9e"
EXTRA_SECRET = "team-header-value-0b7f"


def add_http_connection(client: APIClient, *, slug: str = "weather", secret: str = SECRET) -> dict[str, Any]:
    body = {
        "name": "Weather API",
        "slug": slug,
        "kind": "http",
        "headerName": "Authorization",
        "secret": secret,
        "headers": {"X-Team": EXTRA_SECRET},
    }
    response = client.post("/api/connections", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def authed_graph(url: str, auth: str = "weather", **http_data: Any) -> dict[str, list]:
    return graph(
        [node("city", "text", text="Paris"), node("h", "http", url=url, auth=auth, **http_data)],
        [edge("city", "h", "text", "city")],
    )


def execute(owner, graph_: dict[str, list]) -> WorkflowRun:
    return run_execute(run_id=str(run_create(owner=owner, graph=graph_, enqueue=False).id))


def everything_stored_and_shown(client: APIClient, run: WorkflowRun) -> list[str]:
    """The run's row, node results and logs as stored, and what the API shows of them and streams."""
    stored = json.dumps(
        [
            list(WorkflowRun.objects.filter(pk=run.pk).values()),
            list(run.node_results.values()),
            list(run.logs.values()),
        ],
        default=str,
    )
    events = client.get(f"/api/runs/{run.pk}/events")
    return [
        stored,
        client.get(f"/api/runs/{run.pk}").content.decode(),
        client.get(f"/api/runs/{run.pk}/logs").content.decode(),
        b"".join(events.streaming_content).decode(),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/echo/{{city}}", "/status/401?c={{city}}"])
def test_the_connection_s_headers_are_sent_and_no_record_log_or_event_holds_their_secrets(
    alice, alice_client, web_allowed: EchoServer, path
):
    add_http_connection(alice_client)

    run = execute(alice, authed_graph(web_allowed.url(path)))

    (seen,) = web_allowed.requests
    assert (seen.headers["authorization"], seen.headers["x-team"]) == (SECRET, EXTRA_SECRET)
    result = run.node_results.get(node_id="h")
    if path.startswith("/echo"):
        # The echo server sent both headers back, in its body and as headers: they are redacted.
        assert result.output["body"]["headers"]["authorization"] == "[redacted]"
        assert result.output["response"]["headers"]["x-echo-x-team"] == "[redacted]"
    else:
        assert (result.error_kind, result.error_message) == ("http_status", "the server answered HTTP 401")
    texts = everything_stored_and_shown(alice_client, run)
    assert "Paris" in texts[0]
    for text in texts:
        assert "weather-secret-5d1c9e" not in text
        assert EXTRA_SECRET not in text


@pytest.mark.django_db(transaction=True)
def test_a_users_own_connection_shadows_the_site_connection_of_the_same_slug(
    alice, alice_client, bob, web_allowed: EchoServer
):
    site = Connection(name="Site weather", slug="weather", kind=ConnectionKind.HTTP, header_name="X-Key")
    site.set_secret("site-secret-for-everyone")
    site.save()
    add_http_connection(alice_client, secret="alice-own-secret-4411")

    execute(alice, authed_graph(web_allowed.url("/echo/{{city}}")))
    execute(bob, authed_graph(web_allowed.url("/echo/{{city}}")))

    alices, bobs = web_allowed.requests
    assert (alices.headers["authorization"], "x-key" in alices.headers) == ("alice-own-secret-4411", False)
    assert bobs.headers["x-key"] == "site-secret-for-everyone"


@pytest.mark.django_db
def test_an_execute_naming_an_auth_connection_the_owner_cannot_use_is_a_400_at_the_nodes_auth(
    alice, alice_client, bob_client, web_allowed: EchoServer
):
    add_http_connection(alice_client)
    Connection.objects.create(owner=alice, name="Models", slug="not-http", kind=ConnectionKind.GROQ)

    bobs = bob_client.post("/api/execute", authed_graph(web_allowed.url("/echo/{{city}}")), format="json")
    not_http = alice_client.post(
        "/api/execute", authed_graph(web_allowed.url("/echo/{{city}}"), auth="not-http"), format="json"
    )

    for response, slug in ((bobs, "weather"), (not_http, "not-http")):
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"path": "nodes[1].data.auth", "message": f"no HTTP connection named {slug!r}"}
        ]
    assert web_allowed.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_deleted_after_the_run_was_accepted_fails_the_node_naming_it(
    alice, alice_client, web_allowed: EchoServer
):
    created = add_http_connection(alice_client)
    run = run_create(owner=alice, graph=authed_graph(web_allowed.url("/echo/{{city}}")), enqueue=False)
    alice_client.delete(f"/api/connections/{created['id']}")

    run = run_execute(run_id=str(run.id))

    result = run.node_results.get(node_id="h")
    assert (result.error_kind, result.error_message) == (
        "connection_missing",
        "no HTTP connection named 'weather'",
    )
    assert web_allowed.requests == []
