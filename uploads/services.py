"""Writes for uploads: verify and store an image, delete one, and check a graph's image references."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Sum
from django.utils.crypto import salted_hmac

from accounts.models import User
from core.errors import DomainError
from engine import ValidationIssue
from uploads import selectors
from uploads.images import clean_image
from uploads.models import Upload
from uploads.signals import delete_stored_file


def owner_folder(owner_id: int) -> str:
    """A stable per-user folder name that does not reveal the user id."""
    return salted_hmac("weft.uploads.owner-folder", str(owner_id)).hexdigest()[:20]


def storage_key_for(*, owner_id: int, extension: str) -> str:
    return f"uploads/{owner_folder(owner_id)}/{secrets.token_urlsafe(24)}.{extension}"


def sanitize_filename(name: str) -> str:
    """The client's file name, kept for display only: no path, no control characters, bounded."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return base[-200:]


class UploadLimitReached(DomainError):
    """The owner has as many uploads, or as many bytes of them, as UPLOAD_MAX_PER_USER and
    UPLOAD_MAX_TOTAL_BYTES_PER_USER allow; the message says which, for the person uploading. A conflict with
    what they already store rather than a bad request: deleting uploads makes room."""

    http_status = 409
    code = "upload_limit_reached"

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[{"path": "file", "message": message}])


def _check_upload_room(*, owner_id: int, adding: int) -> None:
    usage = Upload.objects.filter(owner_id=owner_id).aggregate(count=Count("pk"), total=Sum("size"))
    limit = settings.UPLOAD_MAX_PER_USER
    if usage["count"] >= limit:
        raise UploadLimitReached(
            f"You already have {limit} uploads, the most allowed; delete some to upload more."
        )
    allowed = settings.UPLOAD_MAX_TOTAL_BYTES_PER_USER
    if (usage["total"] or 0) + adding > allowed:
        raise UploadLimitReached(
            f"Your uploads would take more than the {allowed} bytes allowed; delete some to upload more."
        )


def upload_create(*, owner: User, data: bytes, filename: str = "") -> Upload:
    """Verify `data` as an image, store its clean re-encoding and record it; raises ImageRejected, or
    UploadLimitReached when the owner has no room left.

    Nothing is written before the image is verified and the owner has room, and a failed or refused
    database write removes the file, so a refused upload leaves no trace in storage.
    """
    image = clean_image(data, max_bytes=settings.UPLOAD_MAX_BYTES, max_pixels=settings.UPLOAD_MAX_PIXELS)
    # Refuses early, before storing; checked again below, where it counts.
    _check_upload_room(owner_id=owner.pk, adding=len(image.data))
    content = ContentFile(image.data)
    # django-storages' S3 backend sends this as the object's Content-Type.
    content.content_type = image.content_type
    key = default_storage.save(storage_key_for(owner_id=owner.pk, extension=image.extension), content)
    try:
        with transaction.atomic():
            # Locking the owner's row makes concurrent uploads of one user take turns here, so two of
            # them cannot both take the last place.
            User.objects.select_for_update().only("pk").get(pk=owner.pk)
            _check_upload_room(owner_id=owner.pk, adding=len(image.data))
            return Upload.objects.create(
                owner=owner,
                storage_key=key,
                content_type=image.content_type,
                width=image.width,
                height=image.height,
                size=len(image.data),
                original_name=sanitize_filename(filename),
                digest=hashlib.sha256(image.data).hexdigest(),
            )
    except BaseException:
        delete_stored_file(key)
        raise


def upload_digest_record(*, upload: Upload) -> str:
    """Hash an upload stored before digests were recorded (once: the digest is written down)."""
    with default_storage.open(upload.storage_key, "rb") as handle:
        upload.digest = hashlib.sha256(handle.read()).hexdigest()
    Upload.objects.filter(pk=upload.pk).update(digest=upload.digest)
    return upload.digest


def upload_delete(*, upload: Upload) -> None:
    """Delete the record; its file is removed once the deletion commits (see uploads.signals)."""
    upload.delete()


def graph_upload_issues(*, owner: User, graph: Any) -> list[ValidationIssue]:
    """Image nodes whose upload is not the owner's (or does not exist) and URLs that can never be fetched.

    Structural problems are the engine validator's to report; this only looks at Image node data.
    """
    if not isinstance(graph, Mapping) or not isinstance(graph.get("nodes"), list):
        return []
    referenced: list[tuple[int, object]] = []
    issues: list[tuple[int, ValidationIssue]] = []
    for index, node in enumerate(graph["nodes"]):
        if (
            not isinstance(node, Mapping)
            or node.get("type") != "image"
            or not isinstance(node.get("data"), Mapping)
        ):
            continue
        data = node["data"]
        if data.get("uploadId"):
            referenced.append((index, data["uploadId"]))
        url = data.get("url")
        if isinstance(url, str) and url:
            problem = url_problem(url)
            if problem:
                issues.append((index, ValidationIssue(f"nodes[{index}].data.url", problem)))
    parsed = {index: selectors.parse_upload_id(value) for index, value in referenced}
    owned = selectors.owned_upload_ids(owner=owner, candidates=[p for p in parsed.values() if p])
    for index, upload_id in parsed.items():
        if upload_id is None or upload_id not in owned:
            issues.append((index, ValidationIssue(f"nodes[{index}].data.uploadId", "unknown upload")))
    return [issue for _, issue in sorted(issues, key=lambda pair: (pair[0], pair[1].path))]


def url_problem(url: str) -> str | None:
    """What is wrong with an Image node URL on its face; addresses are checked when it is fetched."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a malformed port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    return None
