"""The uploads API on the filesystem storage: upload, list, content, delete, and who may see what."""

from __future__ import annotations

import contextlib
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.files import files_under, image_bytes
from uploads import services
from uploads.models import Upload

pytestmark = pytest.mark.django_db


def post_image(client, data: bytes, name: str = "cat.png", content_type: str = "image/png"):
    return client.post(
        "/api/uploads",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
    )


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_upload_answers_with_the_contract_fields_and_stores_a_clean_copy(alice, alice_client, media_root):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."
    response = post_image(
        alice_client, image_bytes("JPEG", (64, 48), exif=exif.tobytes()), name="holiday.jpg"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    upload = Upload.objects.get(pk=body["id"])
    assert body["url"] == f"http://testserver/api/uploads/{upload.pk}/content"
    assert (body["width"], body["height"], body["contentType"]) == (64, 48, "image/jpeg")
    assert body["size"] == upload.size
    assert body["filename"] == "holiday.jpg"
    assert upload.owner == alice
    stored = files_under(media_root)
    assert len(stored) == 1
    assert stored[0].stat().st_size == body["size"]
    assert b"SpyCam" not in stored[0].read_bytes()


def test_the_storage_key_is_unguessable_and_reveals_neither_user_nor_file_name(alice, alice_client):
    first = Upload.objects.get(pk=post_image(alice_client, image_bytes("PNG"), name="cat.png").json()["id"])
    second = Upload.objects.get(pk=post_image(alice_client, image_bytes("PNG"), name="cat.png").json()["id"])

    assert first.storage_key.startswith("uploads/")
    assert first.storage_key.endswith(".png")
    folder, token = first.storage_key.split("/")[1:]
    assert folder == second.storage_key.split("/")[1]  # one folder per owner
    assert str(alice.pk) != folder
    assert "cat" not in token
    assert len(token) >= 32
    assert first.storage_key != second.storage_key


def test_the_format_is_decided_by_decoding_not_by_name_or_content_type(alice_client):
    response = post_image(alice_client, image_bytes("GIF"), name="photo.png", content_type="image/png")

    assert response.status_code == 201
    assert response.json()["contentType"] == "image/gif"
    assert Upload.objects.get().storage_key.endswith(".gif")


def test_the_file_name_is_sanitised_for_display(alice_client):
    response = post_image(alice_client, image_bytes("PNG"), name="../../etc/\x00evil\u202e.png")

    assert response.status_code == 201
    assert response.json()["filename"] == "evil.png"


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    return out.getvalue()


def _truncated() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(out, format="PNG")
    return out.getvalue()[:3000]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.png", "The file is empty."),
        (b"just some text\n", "notes.png", "The file is not a PNG, JPEG, WebP or GIF image."),
        (_truncated(), "cut.png", "The image is damaged or truncated and cannot be decoded."),
        (_bomb(), "bomb.png", "The image has too many pixels (the limit is 40,000,000)."),
    ],
    ids=["zero-bytes", "text-named-png", "truncated", "decompression-bomb"],
)
def test_bad_images_are_a_400_with_a_clear_message_and_leave_nothing_behind(
    alice_client, media_root, data, name, message
):
    response = post_image(alice_client, data, name=name)

    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": [{"path": "file", "message": message}]}
    assert Upload.objects.count() == 0
    assert files_under(media_root) == []


def test_a_file_over_the_limit_is_a_413(alice_client, media_root, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = post_image(alice_client, image_bytes("PNG") + b"\0" * 2000)

    assert response.status_code == 413
    assert "the limit is 1000 bytes" in response.json()["detail"]
    assert Upload.objects.count() == 0
    assert files_under(media_root) == []


def test_a_body_far_over_the_limit_is_refused_before_parsing(alice_client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    settings.WEFT_MAX_BODY_BYTES = 1000
    response = post_image(alice_client, b"\0" * 200_000)

    assert response.status_code == 413


def test_a_request_without_a_file_is_a_400_naming_the_field(alice_client):
    response = alice_client.post("/api/uploads", {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "file", "message": "No file was submitted."}]


def test_a_failed_database_write_removes_the_stored_file(alice_client, media_root, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Upload.objects, "create", fail)
    with pytest.raises(RuntimeError):
        post_image(alice_client, image_bytes("PNG"))

    assert files_under(media_root) == []


def test_anonymous_requests_are_refused(anon_client, alice_client):
    upload_id = post_image(alice_client, image_bytes("PNG")).json()["id"]

    assert post_image(anon_client, image_bytes("PNG")).status_code == 401
    assert anon_client.get("/api/uploads").status_code == 401
    assert anon_client.get(f"/api/uploads/{upload_id}/content").status_code == 401
    assert anon_client.delete(f"/api/uploads/{upload_id}").status_code == 401


def test_the_list_holds_only_my_uploads_newest_first(alice_client, bob_client, django_assert_max_num_queries):
    first = post_image(alice_client, image_bytes("PNG"), name="one.png").json()["id"]
    second = post_image(alice_client, image_bytes("GIF"), name="two.gif").json()["id"]
    post_image(bob_client, image_bytes("PNG"), name="bobs.png")

    with django_assert_max_num_queries(4):  # session, user, count, page
        response = alice_client.get("/api/uploads")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [second, first]
    assert set(body["results"][0]) == {
        "id",
        "url",
        "width",
        "height",
        "contentType",
        "size",
        "filename",
        "createdAt",
    }


def test_the_list_query_count_does_not_grow_with_uploads(alice, alice_client, django_assert_max_num_queries):
    for _ in range(15):
        post_image(alice_client, image_bytes("PNG"))

    with django_assert_max_num_queries(4):
        response = alice_client.get("/api/uploads?limit=10")

    assert len(response.json()["results"]) == 10


def test_the_owner_reads_the_stored_bytes_through_the_content_view(alice_client, media_root):
    body = post_image(alice_client, image_bytes("WEBP", (10, 10))).json()

    response = alice_client.get(f"/api/uploads/{body['id']}/content", HTTP_ACCEPT="image/webp")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert content_of(response) == files_under(media_root)[0].read_bytes()


def test_another_users_upload_is_a_404_everywhere(alice_client, bob_client, media_root):
    upload_id = post_image(alice_client, image_bytes("PNG")).json()["id"]

    assert bob_client.get(f"/api/uploads/{upload_id}").status_code == 404
    assert bob_client.get(f"/api/uploads/{upload_id}/content").status_code == 404
    assert bob_client.delete(f"/api/uploads/{upload_id}").status_code == 404
    assert bob_client.get("/api/uploads").json()["count"] == 0
    assert Upload.objects.filter(pk=upload_id).exists()
    assert len(files_under(media_root)) == 1


def test_the_files_are_not_served_as_public_media(alice_client, anon_client, media_root):
    post_image(alice_client, image_bytes("PNG"))
    key = Upload.objects.get().storage_key

    assert anon_client.get(f"/media/{key}").status_code == 404
    assert alice_client.get(f"/media/{key}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_record_and_the_file(alice_client, media_root):
    upload_id = post_image(alice_client, image_bytes("PNG")).json()["id"]
    assert len(files_under(media_root)) == 1

    response = alice_client.delete(f"/api/uploads/{upload_id}")

    assert response.status_code == 204
    assert not Upload.objects.filter(pk=upload_id).exists()
    assert files_under(media_root) == []
    assert alice_client.get(f"/api/uploads/{upload_id}/content").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_deleting_a_user_removes_their_files(media_root):
    mallory = UserFactory(email="mallory@example.com")
    client = APIClient()
    client.force_login(mallory)
    post_image(client, image_bytes("PNG"))
    assert len(files_under(media_root)) == 1

    mallory.delete()

    assert files_under(media_root) == []


def test_an_upload_past_the_per_user_count_is_a_409_and_stores_nothing(
    alice, alice_client, bob_client, media_root, settings
):
    settings.UPLOAD_MAX_PER_USER = 2
    first = post_image(alice_client, image_bytes("PNG")).json()["id"]
    assert post_image(alice_client, image_bytes("PNG")).status_code == 201

    response = post_image(alice_client, image_bytes("PNG"))

    message = "You already have 2 uploads, the most allowed; delete some to upload more."
    assert response.status_code == 409
    assert response.json() == {"detail": message, "errors": [{"path": "file", "message": message}]}
    assert Upload.objects.filter(owner=alice).count() == 2
    assert len(files_under(media_root)) == 2
    # Each user has a cap of their own, and deleting an upload makes room again.
    assert post_image(bob_client, image_bytes("PNG")).status_code == 201
    assert alice_client.delete(f"/api/uploads/{first}").status_code == 204
    assert post_image(alice_client, image_bytes("PNG")).status_code == 201


def test_an_upload_past_the_per_user_total_size_is_a_409(alice, alice_client, media_root, settings):
    stored = post_image(alice_client, image_bytes("PNG", (64, 64))).json()["size"]
    settings.UPLOAD_MAX_TOTAL_BYTES_PER_USER = stored + 10

    response = post_image(alice_client, image_bytes("PNG", (64, 64)))

    assert response.status_code == 409
    assert response.json()["errors"] == [
        {
            "path": "file",
            "message": f"Your uploads would take more than the {stored + 10} bytes allowed; "
            "delete some to upload more.",
        }
    ]
    assert Upload.objects.filter(owner=alice).count() == 1
    assert len(files_under(media_root)) == 1


@pytest.mark.django_db(transaction=True)  # two uploads in two threads, each with its own connection
def test_two_uploads_at_once_cannot_both_take_the_last_place(alice, media_root, settings, monkeypatch):
    settings.UPLOAD_MAX_PER_USER = 2
    services.upload_create(owner=alice, data=image_bytes("PNG"))
    # Both uploads are verified (and pass the early check) before either is recorded.
    both_verified = threading.Barrier(2, timeout=30)
    real_clean_image = services.clean_image

    def clean_then_wait(*args, **kwargs):
        image = real_clean_image(*args, **kwargs)
        both_verified.wait()
        return image

    # At the write, an upload that found room lingers before recording itself, for the other one to
    # count too if it could; with the owner's row locked it cannot, and the wait just runs out.
    both_counted = threading.Barrier(2, timeout=2)
    real_check = services._check_upload_room

    def check_then_linger(**kwargs):
        real_check(**kwargs)
        if connection.in_atomic_block:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_counted.wait()

    monkeypatch.setattr(services, "clean_image", clean_then_wait)
    monkeypatch.setattr(services, "_check_upload_room", check_then_linger)
    outcomes: list[object] = []

    def upload() -> None:
        try:
            outcomes.append(services.upload_create(owner=alice, data=image_bytes("PNG")))
        except services.UploadLimitReached as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Upload", "UploadLimitReached"]
    assert Upload.objects.filter(owner=alice).count() == 2
    assert len(files_under(media_root)) == 2
