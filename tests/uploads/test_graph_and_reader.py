"""Graphs may only name their owner's uploads, and the image reader only reads what its owner may read."""

from __future__ import annotations

import base64
import ipaddress
import logging
import ssl
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

import engine
from tests.files import image_bytes
from tests.graphs import edge, node
from uploads.fetch import SafeFetcher
from uploads.fetchpolicy import FetchPolicy, FetchRefused
from uploads.reader import ImageUnavailable, StorageImageReader, image_reader_for
from uploads.services import graph_upload_issues

pytestmark = pytest.mark.django_db


def upload_as(client, fmt: str = "PNG") -> str:
    data = image_bytes(fmt)
    response = client.post(
        "/api/uploads", {"file": SimpleUploadedFile(f"x.{fmt.lower()}", data)}, format="multipart"
    )
    assert response.status_code == 201
    return response.json()["id"]


def image_graph(*image_data: dict) -> dict:
    images = [node(f"img{i}", "image", **data) for i, data in enumerate(image_data)]
    return {"nodes": [node("t", "text", text="hi"), *images], "edges": []}


def image_to_vision_graph(image_data: dict) -> dict:
    """One Image node feeding a Vision node `look`."""
    built = image_graph(image_data)
    built["nodes"].append(node("look", "vision"))
    built["edges"].append(edge("img0", "look", "image", "image"))
    return built


def test_own_uploads_and_plain_urls_raise_no_issue(alice, alice_client):
    mine = upload_as(alice_client)

    graph = image_graph({"uploadId": mine}, {"url": "https://example.com/cat.png"})

    assert graph_upload_issues(owner=alice, graph=graph) == []


def test_another_users_missing_or_malformed_upload_ids_are_unknown(alice, bob_client):
    bobs = upload_as(bob_client)
    graph = image_graph({"uploadId": bobs}, {"uploadId": str(uuid.uuid4())}, {"uploadId": "not-a-uuid"})

    issues = graph_upload_issues(owner=alice, graph=graph)

    assert [issue.as_dict() for issue in issues] == [
        {"path": "nodes[1].data.uploadId", "message": "unknown upload"},
        {"path": "nodes[2].data.uploadId", "message": "unknown upload"},
        {"path": "nodes[3].data.uploadId", "message": "unknown upload"},
    ]


def test_urls_that_can_never_be_fetched_are_reported(alice):
    graph = image_graph({"url": "file:///etc/passwd"}, {"url": "https://user:pw@example.com/a.png"})

    assert [(i.path, i.message) for i in graph_upload_issues(owner=alice, graph=graph)] == [
        ("nodes[1].data.url", "must be an http:// or https:// URL"),
        ("nodes[2].data.url", "must not contain a user name or password"),
    ]


def test_malformed_graphs_are_left_to_the_engine_validator(alice):
    assert graph_upload_issues(owner=alice, graph=None) == []
    assert graph_upload_issues(owner=alice, graph={"nodes": [None, {"type": "image", "data": 3}]}) == []


def test_one_query_checks_all_referenced_uploads(alice, alice_client, django_assert_num_queries):
    graph = image_graph(*({"uploadId": upload_as(alice_client)} for _ in range(5)))

    with django_assert_num_queries(1):
        assert graph_upload_issues(owner=alice, graph=graph) == []


def test_saving_a_workflow_that_names_another_users_upload_is_a_400(alice_client, bob_client):
    bobs = upload_as(bob_client)
    graph = image_graph({"uploadId": bobs})

    response = alice_client.post("/api/workflows", {"name": "steal", **graph}, format="json")

    assert response.status_code == 400
    assert {"path": "nodes[1].data.uploadId", "message": "unknown upload"} in response.json()["errors"]


def test_saving_a_workflow_with_my_upload_works(alice_client):
    mine = upload_as(alice_client)

    response = alice_client.post(
        "/api/workflows", {"name": "mine", **image_graph({"uploadId": mine})}, format="json"
    )

    assert response.status_code == 201, response.content


def test_executing_a_graph_that_names_another_users_upload_is_a_400(alice_client, bob_client):
    bobs = upload_as(bob_client)

    response = alice_client.post("/api/execute", image_graph({"uploadId": bobs}), format="json")

    assert response.status_code == 400
    assert {"path": "nodes[1].data.uploadId", "message": "unknown upload"} in response.json()["errors"]


# -- the reader --------------------------------------------------------------------------------------


def test_the_reader_returns_the_stored_bytes_of_my_upload(alice, alice_client, media_root):
    upload_id = upload_as(alice_client, "WEBP")

    image = image_reader_for(alice).read({"uploadId": upload_id, "url": None})

    assert isinstance(image, engine.ImageData)
    assert image.mime_type == "image/webp"
    [stored] = [p for p in media_root.rglob("*") if p.is_file()]
    assert image.data == stored.read_bytes()


def test_the_reader_refuses_another_users_upload(bob, alice_client):
    upload_id = upload_as(alice_client)

    with pytest.raises(ImageUnavailable, match="unknown upload"):
        StorageImageReader(owner=bob).read({"uploadId": upload_id})


def test_the_reader_refuses_an_empty_reference(alice):
    with pytest.raises(ImageUnavailable, match="neither an upload nor a URL"):
        StorageImageReader(owner=alice).read({"uploadId": None, "url": None})


def test_the_reader_keeps_a_connection_it_did_not_open(alice, alice_client):
    upload_id = upload_as(alice_client)
    assert connection.connection is not None

    StorageImageReader(owner=alice).read({"uploadId": upload_id})

    assert connection.connection is not None  # the test's own connection (and transaction) survive


def test_the_reader_fetches_urls_through_the_safe_fetcher(alice, recording_server):
    server = recording_server()
    server.routes["/cat.gif"] = (200, {}, image_bytes("GIF", (7, 5)))
    fetcher = SafeFetcher(
        FetchPolicy(
            max_bytes=1024 * 1024,
            max_pixels=1_000_000,
            allowed_ports={server.port},
            allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        )
    )

    image = StorageImageReader(owner=alice, fetcher=fetcher).read({"url": server.url("/cat.gif")})

    assert image.mime_type == "image/gif"


def test_the_default_reader_refuses_loopback_urls(alice, recording_server, settings):
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, image_bytes("PNG"))
    settings.UPLOAD_FETCH_ALLOWED_PORTS = [80, 443, server.port]

    with pytest.raises(FetchRefused) as caught:
        image_reader_for(alice).read({"url": server.url("/cat.png")})

    assert "loopback" in caught.value.detail
    assert server.hits == []


@pytest.mark.django_db(transaction=True)  # nodes run on engine worker threads, with their own connections
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "no-such-host.invalid"])
def test_a_node_reading_an_internal_url_tells_the_user_only_that_it_could_not_be_fetched(
    alice, recording_server, settings, fake_llm, caplog, host
):
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, image_bytes("PNG"))
    settings.UPLOAD_FETCH_ALLOWED_PORTS = [80, 443, server.port]
    graph = image_to_vision_graph({"url": server.url("/cat.png", host=host)})
    config = engine.ProviderConfig(gemini_api_key="fake-gemini", gemini_base_url=fake_llm.url, max_attempts=1)
    context = engine.ExecutionContext(llm=engine.build_llm_client(config), images=image_reader_for(alice))

    with caplog.at_level(logging.WARNING, logger="uploads.fetch"):
        outcome = engine.execute_graph(graph, context=context, sink=engine.MemorySink())

    look = outcome.results["look"]
    assert look.status == engine.NodeStatus.failed
    assert look.error_message == (
        "could not read image: The image URL could not be fetched: its host is unknown or not allowed."
    )
    assert server.hits == []
    assert fake_llm.requests_for("gemini") == []
    # The reason stays in the server log.
    assert "loopback address" in caplog.text or "cannot be resolved" in caplog.text


def test_a_deployment_can_allow_a_network_explicitly(alice, recording_server, settings):
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, image_bytes("PNG"))
    settings.UPLOAD_FETCH_ALLOWED_PORTS = [server.port]
    settings.UPLOAD_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    image = image_reader_for(alice).read({"url": server.url("/cat.png")})

    assert image.mime_type == "image/png"


@pytest.mark.django_db(transaction=True)  # nodes run on engine worker threads, with their own connections
def test_on_fallback_the_image_goes_inline_to_a_groq_vision_model(alice, alice_client, media_root, fake_llm):
    upload_id = upload_as(alice_client)
    [stored] = [p for p in media_root.rglob("*") if p.is_file()]
    fake_llm.fail_next("gemini", status=500)
    config = engine.ProviderConfig(
        gemini_api_key="fake-gemini",
        groq_api_key="fake-groq",
        gemini_base_url=fake_llm.url,
        groq_base_url=fake_llm.url,
        max_attempts=1,
    )
    image_to_vision = image_to_vision_graph({"uploadId": upload_id})
    context = engine.ExecutionContext(
        llm=engine.build_llm_client(config), images=StorageImageReader(owner=alice)
    )

    outcome = engine.execute_graph(image_to_vision, context=context, sink=engine.MemorySink())

    look = outcome.results["look"]
    assert look.status == engine.NodeStatus.succeeded, look.error_message
    [groq] = fake_llm.requests_for("groq")
    assert groq.model == config.fallback_vision_model
    content = groq.body["messages"][-1]["content"]
    urls = [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]
    assert urls == ["data:image/png;base64," + base64.b64encode(stored.read_bytes()).decode()]


def test_readers_of_one_process_share_one_tls_context(alice, bob):
    # Loading the CA certificates for every run cost more than a small run itself.
    first = image_reader_for(alice.pk).fetcher.policy.ssl_context
    assert image_reader_for(bob.pk).fetcher.policy.ssl_context is first
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname
