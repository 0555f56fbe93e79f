"""Uploads on S3 (django-storages + boto3) against moto's real S3-compatible server on loopback."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from storages.backends.s3 import S3Storage

import engine
from accounts.models import User
from tests.files import files_under, image_bytes
from tests.graphs import edge, graph, node
from uploads.models import Upload
from uploads.reader import StorageImageReader

pytestmark = pytest.mark.django_db


def post_image(client, data: bytes, name: str = "cat.png"):
    return client.post(
        "/api/uploads", {"file": SimpleUploadedFile(name, data, content_type="image/png")}, format="multipart"
    )


def test_the_default_storage_is_s3_when_a_bucket_is_configured(s3_storage, moto_endpoint):
    assert isinstance(default_storage, S3Storage)
    assert default_storage.bucket_name == s3_storage.name
    assert default_storage.endpoint_url == moto_endpoint


def test_upload_list_presigned_read_and_delete_on_s3(alice_client, s3_storage, media_root):
    # Upload: the clean copy lands in the bucket, with its content type, and nothing on local disk.
    response = post_image(alice_client, image_bytes("PNG", (30, 20)))
    assert response.status_code == 201, response.content
    body = response.json()
    upload = Upload.objects.get(pk=body["id"])
    assert s3_storage.keys() == [upload.storage_key]
    head = s3_storage.client.head_object(Bucket=s3_storage.name, Key=upload.storage_key)
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == body["size"]
    assert files_under(media_root) == []

    # List.
    listing = alice_client.get("/api/uploads").json()
    assert [item["id"] for item in listing["results"]] == [body["id"]]

    # Read: the content URL redirects to a short-lived presigned URL that works without cookies.
    content = alice_client.get(f"/api/uploads/{body['id']}/content")
    assert content.status_code == 302
    assert content["Cache-Control"] == "private, no-store"
    presigned = content["Location"]
    query = parse_qs(urlsplit(presigned).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert "X-Amz-Signature" in query
    fetched = requests.get(presigned, timeout=5)
    assert fetched.status_code == 200
    assert (
        fetched.content
        == s3_storage.client.get_object(Bucket=s3_storage.name, Key=upload.storage_key)["Body"].read()
    )
    # Without the signature the object is not public.
    unsigned = requests.get(presigned.split("?", 1)[0], timeout=5)
    assert unsigned.status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_object_from_the_bucket(alice_client, s3_storage):
    upload_id = post_image(alice_client, image_bytes("PNG")).json()["id"]
    assert len(s3_storage.keys()) == 1

    assert alice_client.delete(f"/api/uploads/{upload_id}").status_code == 204

    assert s3_storage.keys() == []
    assert not Upload.objects.filter(pk=upload_id).exists()


def test_another_user_gets_no_presigned_url(alice_client, bob_client, s3_storage):
    upload_id = post_image(alice_client, image_bytes("PNG")).json()["id"]

    assert bob_client.get(f"/api/uploads/{upload_id}/content").status_code == 404


def test_a_refused_upload_leaves_nothing_in_the_bucket(alice_client, s3_storage):
    response = post_image(alice_client, b"GIF89a but not really an image")

    assert response.status_code == 400
    assert s3_storage.keys() == []


def image_to_vision_graph(upload_id: str) -> dict:
    return graph(
        [node("img", "image", uploadId=upload_id), node("look", "vision", prompt="What colour is this?")],
        [edge("img", "look", "image", "image")],
    )


def run_vision(upload_id: str, *, owner: User, fake_llm) -> engine.RunOutcome:
    llm = engine.build_llm_client(
        engine.ProviderConfig(gemini_api_key="fake-key", gemini_base_url=fake_llm.url, max_attempts=1)
    )
    context = engine.ExecutionContext(llm=llm, images=StorageImageReader(owner=owner))
    return engine.execute_graph(image_to_vision_graph(upload_id), context=context, sink=engine.MemorySink())


@pytest.mark.django_db(transaction=True)  # nodes run on engine worker threads, with their own connections
def test_the_vision_node_sends_the_uploaded_bytes_from_s3_inline_to_the_model(
    alice, alice_client, s3_storage, fake_llm
):
    upload_id = post_image(alice_client, image_bytes("PNG", (16, 16))).json()["id"]
    key = Upload.objects.get().storage_key
    stored = s3_storage.client.get_object(Bucket=s3_storage.name, Key=key)["Body"].read()

    outcome = run_vision(upload_id, owner=alice, fake_llm=fake_llm)

    assert outcome.status == engine.RunStatus.succeeded, outcome.results["look"].error_message
    assert outcome.results["look"].output == {"text": "echo: What colour is this?"}
    [request] = fake_llm.requests_for("gemini")
    parts = request.body["contents"][-1]["parts"]
    inline = [part["inlineData"] for part in parts if "inlineData" in part]
    assert len(inline) == 1
    assert inline[0]["mime_type"] == "image/png"
    # google-genai sends bytes as URL-safe base64.
    assert base64.urlsafe_b64decode(inline[0]["data"]) == stored


@pytest.mark.django_db(transaction=True)
def test_the_vision_node_cannot_read_another_users_upload(alice, bob, alice_client, s3_storage, fake_llm):
    upload_id = post_image(alice_client, image_bytes("PNG")).json()["id"]

    outcome = run_vision(upload_id, owner=bob, fake_llm=fake_llm)

    assert outcome.status != engine.RunStatus.succeeded
    assert f"unknown upload {upload_id}" in outcome.results["look"].error_message
    assert fake_llm.requests == []
