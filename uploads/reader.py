"""The engine's `ImageReader` and `ImageDigests`, implemented over Django storage (uploads) and the safe
fetcher (URLs)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from accounts.models import User
from core.errors import NotFound
from engine import ImageData
from uploads import selectors
from uploads.fetch import SafeFetcher, shared_tls_context
from uploads.fetchpolicy import FetchPolicy
from uploads.services import upload_digest_record


class ImageUnavailable(Exception):
    """An image reference that cannot be read for this user; the message is shown on the node."""


def fetch_policy() -> FetchPolicy:
    return FetchPolicy(
        max_bytes=settings.UPLOAD_MAX_BYTES,
        max_pixels=settings.UPLOAD_MAX_PIXELS,
        timeout_s=settings.UPLOAD_FETCH_TIMEOUT_SECONDS,
        deadline_s=settings.UPLOAD_FETCH_DEADLINE_SECONDS,
        max_concurrent=settings.UPLOAD_FETCH_MAX_CONCURRENT,
        allowed_ports=frozenset(settings.UPLOAD_FETCH_ALLOWED_PORTS),
        allowed_networks=tuple(ipaddress.ip_network(net) for net in settings.UPLOAD_FETCH_ALLOWED_NETWORKS),
        ssl_context=shared_tls_context(),
    )


class StorageImageReader:
    """Reads `{"uploadId": ...}` (the owner's uploads only) and `{"url": ...}` (fetched safely) refs.

    Nodes run on the engine's worker threads, each of which gets its own database connection; a
    connection this reader opened is closed again, so that finished threads leave none behind.
    """

    def __init__(self, *, owner: User, fetcher: SafeFetcher | None = None) -> None:
        self.owner = owner
        self.fetcher = fetcher or SafeFetcher(fetch_policy())

    def read(self, ref: Mapping[str, Any]) -> ImageData:
        upload_id = ref.get("uploadId")
        url = ref.get("url")
        if upload_id:
            return self._read_upload(upload_id)
        if isinstance(url, str) and url:
            image = self.fetcher.fetch_image(url)
            return ImageData(data=image.data, mime_type=image.content_type)
        raise ImageUnavailable("the image reference names neither an upload nor a URL")

    def digest(self, ref: Mapping[str, Any]) -> str | None:
        """The SHA-256 of an upload's stored bytes (None for URLs: their bytes are only known once read)."""
        try:
            upload = selectors.upload_get(owner=self.owner, upload_id=ref.get("uploadId"))
        except NotFound:
            return None
        return upload.digest or upload_digest_record(upload=upload)

    def _read_upload(self, upload_id: object) -> ImageData:
        opened_here = connection.connection is None
        try:
            upload = selectors.upload_get(owner=self.owner, upload_id=upload_id)
        except NotFound:
            raise ImageUnavailable(f"unknown upload {upload_id}") from None
        finally:
            if opened_here:
                connection.close()
        with default_storage.open(upload.storage_key, "rb") as handle:
            data = handle.read()
        return ImageData(data=data, mime_type=upload.content_type)


def image_reader_for(owner: User) -> StorageImageReader:
    """The reader a run of `owner`'s graph passes to the engine as `ExecutionContext.images`."""
    return StorageImageReader(owner=owner)
