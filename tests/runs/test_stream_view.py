"""The event stream view inside the test process: under WSGI (the test client, runserver) it streams too,
and with no Redis the in-memory bus serves it."""

from __future__ import annotations

import pytest

from runs.driving import run_execute
from runs.services import run_create
from tests.graphs import edge, node
from tests.sse import parse_stream

pytestmark = pytest.mark.django_db


def test_a_wsgi_request_streams_a_run_from_the_in_memory_bus(alice, alice_client, llm_settings, settings):
    settings.REDIS_URL = ""  # the bus of a process without Redis
    graph = {
        "nodes": [node("a", "text", text="one two three"), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run = run_create(owner=alice, graph=graph, enqueue=False)
    run_execute(run_id=str(run.id))

    response = alice_client.get(f"/api/runs/{run.id}/events")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    events = parse_stream(b"".join(response.streaming_content))
    types = [event_type for event_type, _ in events]
    assert types[0] == "run"
    assert types[-1] == "end"
    assert (
        "".join(data["text"] for event_type, data in events if event_type == "token") == "echo: one two three"
    )


def test_another_users_stream_is_a_404(alice, bob_client, llm_settings):
    graph = {"nodes": [node("a", "text", text="hi")], "edges": []}
    run = run_create(owner=alice, graph=graph, enqueue=False)

    response = bob_client.get(f"/api/runs/{run.id}/events")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such run."}


@pytest.mark.parametrize(
    "last_event_id",
    ["x", "1-2-3", "99999999999999999999-0", "18446744073709551616-0", "0-18446744073709551616"],
)
def test_a_last_event_id_that_is_malformed_or_beyond_64_bits_is_a_400(alice, alice_client, last_event_id):
    run = run_create(owner=alice, graph={"nodes": [node("a", "text", text="hi")], "edges": []}, enqueue=False)

    response = alice_client.get(f"/api/runs/{run.id}/events", HTTP_LAST_EVENT_ID=last_event_id)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert [error["path"] for error in response.json()["errors"]] == ["Last-Event-ID"]
    assert response.json()["detail"].startswith("Last-Event-ID: ")


@pytest.mark.django_db(transaction=True)  # the stream reads the run from another thread
def test_the_largest_64_bit_last_event_id_is_read_after_like_any_other(alice, alice_client, llm_settings):
    run = run_create(owner=alice, graph={"nodes": [node("a", "text", text="hi")], "edges": []}, enqueue=False)
    run_execute(run_id=str(run.id))
    largest = f"{2**64 - 1}-{2**64 - 1}"

    response = alice_client.get(f"/api/runs/{run.id}/events", HTTP_LAST_EVENT_ID=largest)

    assert response.status_code == 200
    events = parse_stream(b"".join(response.streaming_content))
    assert events[-1][0] == "end"
    assert events[-1][1]["status"] == "succeeded"


def test_a_stranger_gets_a_401_with_the_apis_challenge(alice, client):
    run = run_create(owner=alice, graph={"nodes": [node("a", "text", text="hi")], "edges": []}, enqueue=False)

    response = client.get(f"/api/runs/{run.id}/events")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_user_over_the_stream_cap_gets_a_429_before_the_stream_starts_and_others_stream_on(
    alice, alice_client, bob, bob_client, settings
):
    settings.RUN_EVENTS_MAX_STREAMS_PER_USER = 2
    graph = {"nodes": [node("a", "text", text="hi")], "edges": []}
    alices, bobs = (run_create(owner=user, graph=graph, enqueue=False) for user in (alice, bob))
    for run in (alices, bobs):
        run_execute(run_id=str(run.id))

    held = [alice_client.get(f"/api/runs/{alices.id}/events") for _ in range(2)]  # open, not yet read
    refused = alice_client.get(f"/api/runs/{alices.id}/events")
    bobs_stream = bob_client.get(f"/api/runs/{bobs.id}/events")

    assert [response.status_code for response in held] == [200, 200]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused["Retry-After"] == "5"
    assert "2 live event streams open" in refused.json()["detail"]
    assert bobs_stream.status_code == 200
    assert parse_stream(b"".join(bobs_stream.streaming_content))[-1][0] == "end"
    # A stream that ends gives its slot back.
    assert parse_stream(b"".join(held[0].streaming_content))[-1][0] == "end"
    again = alice_client.get(f"/api/runs/{alices.id}/events")
    assert again.status_code == 200
    for response in (again, held[1]):
        assert parse_stream(b"".join(response.streaming_content))[-1][0] == "end"
