"""GET /api/runs/{id}/events served by a real ASGI server process (gunicorn with uvicorn workers), with
runs executed by the real SDKs against the fake LLM server streaming its answers word by word.

In the Redis tests the run executes in this process and publishes to Redis, and the server process reads
it from there; the in-process test runs everything in the server process with no Redis at all.
"""

from __future__ import annotations

import json
import signal
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from accounts.services import api_token_create
from runs.driving import run_execute
from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.services import run_create
from tests.factories import UserFactory
from tests.graphs import edge, node
from tests.runs.processes import child_env, fake_llm_env, free_port, kill_group, start, wait_http
from tests.sse import ServerEvent, collect, read_events
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROMPT = "tell me about otters and the rivers they swim in"
# The server's RUN_EVENTS_MAX_STREAMS_PER_USER (this module opens at most five streams at once elsewhere).
STREAM_CAP = 5


def diamond() -> dict[str, list]:
    """a -> (b, c) -> d: b and c answer a's text, d takes b as its prompt and c as its system prompt."""
    return {
        "nodes": [node("a", "text", text=PROMPT), node("b", "llm"), node("c", "llm"), node("d", "llm")],
        "edges": [
            edge("a", "b", "text", "prompt"),
            edge("a", "c", "text", "prompt"),
            edge("b", "d", "text", "prompt"),
            edge("c", "d", "text", "system"),
        ],
    }


def serve(env: dict[str, str], log: Path) -> tuple[object, str]:
    port = free_port()
    args = ["-m", "gunicorn", "workflowsite.asgi:application", "-k", "uvicorn_worker.UvicornWorker"]
    process = start([*args, "--bind", f"127.0.0.1:{port}", "--workers", "1"], env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/health", timeout=30)
    except AssertionError:
        kill_group(process)
        raise AssertionError(log.read_text()) from None
    return process, url


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """One server process for the module, on the test database and the test Redis."""
    if connection.vendor != "postgresql":
        pytest.skip("a server process needs a shared database: set DATABASE_URL to PostgreSQL")
    log = tmp_path_factory.mktemp("asgi") / "server.log"
    env = child_env(
        f"weft-test-{uuid.uuid4().hex[:10]}",
        RUN_EVENTS_HEARTBEAT_SECONDS="1",
        RUN_EVENTS_MAX_STREAMS_PER_USER=str(STREAM_CAP),
    )
    process, url = serve(env, log)
    yield url
    kill_group(process, signal.SIGTERM)


@pytest.fixture
def streaming_llm(llm_settings, settings):
    """Gemini and Groq on the fake server, which streams each answer one word per chunk."""
    settings.GROQ_API_KEY = "fake-key"
    settings.GROQ_BASE_URL = llm_settings.url
    llm_settings.chunk_delay_s = 0.01
    return llm_settings


def execute_in_background(run_id: str) -> threading.Thread:
    def target() -> None:
        try:
            run_execute(run_id=run_id)
        finally:
            connection.close()

    thread = threading.Thread(target=target, name="test-run")
    thread.start()
    return thread


def subscribe(url: str, token: str, **options: object) -> tuple[threading.Thread, list[ServerEvent]]:
    """Read a stream on a thread; wait until the server has answered before returning."""
    events: list[ServerEvent] = []
    connected = threading.Event()

    def target() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", url, headers=headers, timeout=30) as response:
            connected.set()
            for event in read_events(response):
                events.append(event)
                if event.type == "end":
                    return

    thread = threading.Thread(target=target, name="test-subscriber")
    thread.start()
    assert connected.wait(20)
    return thread, events


def of_node(events: list[ServerEvent], node_id: str, type: str | None = None) -> list[ServerEvent]:
    return [e for e in events if e.data.get("nodeId") == node_id and (type is None or e.type == type)]


def index_of(events: list[ServerEvent], match: Callable[[ServerEvent], bool]) -> int:
    return next(i for i, e in enumerate(events) if match(e))


def node_state(node_id: str, state: str) -> Callable[[ServerEvent], bool]:
    return lambda e: e.type == "node" and e.data["nodeId"] == node_id and e.data["state"] == state


def shown_text(events: list[ServerEvent], node_id: str) -> str:
    """A node's text as a client shows it: tokens appended, a reset clears them."""
    text = ""
    for event in of_node(events, node_id):
        if event.type == "reset":
            text = ""
        elif event.type == "token":
            text += event.data["text"]
    return text


def test_a_diamond_streams_its_events_in_order_with_tokens_before_each_result(
    asgi_server, alice, alice_token, streaming_llm
):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)
    url = f"{asgi_server}/api/runs/{run.id}/events"
    subscriber, events = subscribe(url, alice_token)

    execute_in_background(str(run.id)).join(60)
    subscriber.join(60)

    assert events[0].type == "run"
    assert events[0].data["status"] == "running"
    assert events[-1].type == "end"
    assert events[-1].data | {"durationMs": None} == {
        "status": "succeeded",
        "totalNodes": 4,
        "succeededNodes": 4,
        "failedNodes": 0,
        "skippedNodes": 0,
        "reusedNodes": 0,
        "durationMs": None,
        "errorSummary": "",
    }
    ids = [tuple(int(part) for part in e.id.split("-")) for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    started = {n: index_of(events, node_state(n, "started")) for n in "abcd"}
    finished = {n: index_of(events, node_state(n, "finished")) for n in "abcd"}
    assert finished["a"] < started["b"]
    assert finished["a"] < started["c"]
    assert max(finished["b"], finished["c"]) < started["d"]
    assert finished["d"] < len(events) - 1
    results = {r.node_id: r for r in NodeResult.objects.filter(run=run)}
    for node_id in "bcd":
        tokens = of_node(events, node_id, "token")
        assert len(tokens) > 3
        first_token = events.index(tokens[0])
        assert started[node_id] < first_token
        assert events.index(tokens[-1]) < finished[node_id]
        # The stored output is exactly the streamed text, and the finished event carries it too.
        assert shown_text(events, node_id) == results[node_id].output["text"]
        assert events[finished[node_id]].data["result"]["output"] == results[node_id].output
    # Counts grow as results are written.
    counts = [e.data["succeededNodes"] for e in events if e.type == "run"]
    assert counts == sorted(counts)
    assert counts[-1] == 4


def test_tokens_reach_the_client_while_the_node_is_still_running(
    asgi_server, alice, alice_token, streaming_llm
):
    streaming_llm.chunk_delay_s = 0.05
    graph = {
        "nodes": [node("a", "text", text=PROMPT), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run = run_create(owner=alice, graph=graph, enqueue=False)
    subscriber, events = subscribe(f"{asgi_server}/api/runs/{run.id}/events", alice_token)
    runner = execute_in_background(str(run.id))

    wait_for(lambda: of_node(events, "b", "token"), timeout=30)
    stored_while_streaming = NodeResult.objects.filter(run=run, node_id="b").exists()
    runner.join(60)
    subscriber.join(60)

    assert not stored_while_streaming
    assert NodeResult.objects.get(run=run, node_id="b").output["text"] == shown_text(events, "b")


def test_a_fallback_after_partial_output_sends_a_reset_and_then_the_final_text(
    asgi_server, alice, alice_token, streaming_llm
):
    streaming_llm.fail_next("gemini", status="cut")
    graph = {
        "nodes": [node("a", "text", text=PROMPT), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    run = run_create(owner=alice, graph=graph, enqueue=False)
    subscriber, events = subscribe(f"{asgi_server}/api/runs/{run.id}/events", alice_token)

    execute_in_background(str(run.id)).join(60)
    subscriber.join(60)

    b_events = [e.type for e in of_node(events, "b") if e.type in ("token", "reset")]
    reset_at = b_events.index("reset")
    assert 0 < reset_at < len(b_events) - 1
    assert b_events.count("reset") == 1
    result = NodeResult.objects.get(run=run, node_id="b")
    assert result.provider == "groq"
    assert shown_text(events, "b") == result.output["text"] == f"echo: {PROMPT}"


def test_a_reconnect_with_last_event_id_loses_and_duplicates_nothing(
    asgi_server, alice, alice_token, streaming_llm
):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)
    url = f"{asgi_server}/api/runs/{run.id}/events"
    runner = execute_in_background(str(run.id))

    before = collect(url, token=alice_token, stop_after=12)  # drops the connection mid-run
    after = collect(url, token=alice_token, last_event_id=before[-1].id)
    runner.join(60)
    whole = collect(url, token=alice_token)

    joined = [(e.id, e.type) for e in before + after]
    assert joined == [(e.id, e.type) for e in whole]
    assert whole[-1].type == "end"


def test_a_late_subscriber_gets_the_whole_run_and_end(asgi_server, alice, alice_token, streaming_llm):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)
    run_execute(run_id=str(run.id))

    events = collect(f"{asgi_server}/api/runs/{run.id}/events", token=alice_token)

    assert [e.type for e in events][:3] == ["run", "node", "node"]
    assert {e.data["nodeId"] for e in events if e.type == "node" and e.data["state"] == "finished"} == set(
        "abcd"
    )
    assert events[-1].type == "end"
    assert events[-1].data["status"] == "succeeded"


def test_a_finished_run_whose_events_expired_is_told_from_the_database(
    asgi_server, alice, alice_token, llm_settings
):
    from runs.events import run_event_bus

    run = run_create(owner=alice, graph=diamond(), enqueue=False)
    run_execute(run_id=str(run.id))
    run_event_bus()._sync.delete(run_event_bus().key(str(run.id)))  # as if RUN_EVENTS_TTL_SECONDS had passed

    events = collect(f"{asgi_server}/api/runs/{run.id}/events", token=alice_token)

    assert events[0].type == "run"
    assert events[0].data["succeededNodes"] == 4
    finished = [e.data["result"]["nodeId"] for e in events if e.type == "node"]
    assert sorted(finished) == list("abcd")
    assert events[-1].type == "end"
    assert events[-1].data["status"] == "succeeded"


def test_a_run_cancelled_while_queued_ends_its_stream(asgi_server, alice, alice_client, alice_token):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)
    subscriber, events = subscribe(f"{asgi_server}/api/runs/{run.id}/events", alice_token)

    assert alice_client.post(f"/api/runs/{run.id}/cancel").status_code == 202
    subscriber.join(30)

    assert events[-1].type == "end"
    assert events[-1].data["status"] == RunStatus.CANCELLED


def test_another_user_gets_a_404_and_a_stranger_a_401(asgi_server, alice, alice_token):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)
    bob_token = api_token_create(owner=UserFactory(email="bob@example.com"), name="bob").secret
    url = f"{asgi_server}/api/runs/{run.id}/events"

    as_bob = httpx.get(url, headers={"Authorization": f"Bearer {bob_token}"}, timeout=10)
    anonymous = httpx.get(url, timeout=10)
    bad_id = httpx.get(
        url, headers={"Authorization": f"Bearer {alice_token}", "Last-Event-ID": "x"}, timeout=10
    )

    assert as_bob.status_code == 404
    assert str(run.id) not in as_bob.text
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert bad_id.status_code == 400
    assert bad_id.json()["errors"][0]["path"] == "Last-Event-ID"


def test_in_process_mode_without_redis_streams_a_run_from_the_web_process(
    alice, alice_token, fake_llm, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("a server process needs a shared database: set DATABASE_URL to PostgreSQL")
    fake_llm.chunk_delay_s = 0.01
    env = child_env(
        "unused",
        DJANGO_SETTINGS_MODULE="workflowsite.test_settings",
        REDIS_URL="",
        DRAMATIQ_BROKER_URL="",
        WEFT_INPROCESS_WORKER="true",
        **fake_llm_env(fake_llm.url),
    )
    process, url = serve(env, tmp_path / "server.log")
    try:
        request = urllib.request.Request(
            f"{url}/api/execute",
            data=json.dumps(diamond()).encode(),
            headers={"Authorization": f"Bearer {alice_token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            run_id = json.loads(response.read())["runId"]
        events = collect(f"{url}/api/runs/{run_id}/events", token=alice_token)
    finally:
        kill_group(process, signal.SIGTERM)

    assert events[-1].type == "end", (tmp_path / "server.log").read_text()
    assert events[-1].data["status"] == "succeeded"
    assert of_node(events, "d", "token")
    assert shown_text(events, "d") == NodeResult.objects.get(run_id=run_id, node_id="d").output["text"]
    assert WorkflowRun.objects.get(pk=run_id).succeeded_nodes == 4


def test_open_streams_hold_no_database_connection(asgi_server, alice, alice_client, alice_token):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)  # stays queued: its streams idle
    database = connection.settings_dict["NAME"]

    def connections_to_the_test_database() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
            return cursor.fetchone()[0]

    before = connections_to_the_test_database()
    subscribers = [subscribe(f"{asgi_server}/api/runs/{run.id}/events", alice_token) for _ in range(5)]
    during = connections_to_the_test_database()
    alice_client.post(f"/api/runs/{run.id}/cancel")
    for thread, _ in subscribers:
        thread.join(30)

    assert during <= before + 1  # the server's last request may still be closing its own
    assert all(events[-1].type == "end" for _, events in subscribers)


def test_the_stream_cap_counts_a_users_streams_in_every_web_process(
    asgi_server, alice, alice_client, alice_token, settings
):
    settings.RUN_EVENTS_MAX_STREAMS_PER_USER = STREAM_CAP  # this process is a second web process
    run = run_create(owner=alice, graph=diamond(), enqueue=False)  # stays queued: its streams idle
    url = f"{asgi_server}/api/runs/{run.id}/events"
    on_server = [subscribe(url, alice_token) for _ in range(3)]
    here = [alice_client.get(f"/api/runs/{run.id}/events") for _ in range(2)]  # open, not yet read

    refused_here = alice_client.get(f"/api/runs/{run.id}/events")
    refused_there = httpx.get(url, headers={"Authorization": f"Bearer {alice_token}"}, timeout=10)
    assert alice_client.post(f"/api/runs/{run.id}/cancel").status_code == 202
    for thread, _ in on_server:
        thread.join(30)
    here_events = [b"".join(response.streaming_content) for response in here]
    after_they_ended = httpx.get(url, headers={"Authorization": f"Bearer {alice_token}"}, timeout=10)

    assert [response.status_code for response in here] == [200, 200]
    assert refused_here.status_code == 429
    assert refused_there.status_code == 429
    assert refused_there.headers["Retry-After"] == "5"
    assert all(events[-1].type == "end" for _, events in on_server)
    assert all(b"event: end" in body for body in here_events)
    assert after_they_ended.status_code == 200  # the cancelled run's stream, told at once


def test_a_stream_whose_client_goes_away_gives_its_place_back(asgi_server, alice, alice_token):
    run = run_create(owner=alice, graph=diamond(), enqueue=False)  # stays queued: its streams idle
    url = f"{asgi_server}/api/runs/{run.id}/events"

    def open_and_drop() -> bool:
        with httpx.stream(
            "GET", url, headers={"Authorization": f"Bearer {alice_token}"}, timeout=10
        ) as response:
            return response.status_code == 200  # leaving closes the connection

    # Twice the cap, one after another: each place must come back once the server sees its client gone, sooner
    # than a place that was not given back would lapse (three heartbeats of 1 s).
    for _ in range(2 * STREAM_CAP):
        wait_for(open_and_drop, timeout=2)
