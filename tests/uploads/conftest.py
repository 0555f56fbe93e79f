"""Uploads fixtures: a private MEDIA_ROOT per test, moto's S3 server, loopback servers that record hits or
answer one byte at a time (the servers themselves are in tests/fakes/)."""

from __future__ import annotations

import socket
import ssl
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.fakes.http_servers import DrippingServer, RecordingServer
from tests.fakes.s3 import S3Bucket, start_moto_server


@pytest.fixture(autouse=True)
def _private_media_root(media_root: Path) -> Path:
    """Every test stores files in its own folder (tests/fixtures/storage.py)."""
    return media_root


# -- moto's S3 server -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's server mode) on loopback, for the whole session."""
    process, url = start_moto_server()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_storage(settings, moto_endpoint: str) -> S3Bucket:
    """Default storage switched to django-storages' S3 backend on a fresh bucket in moto.

    Changing STORAGES fires Django's setting_changed handler, which drops the cached default
    storage, so the next access builds an S3Storage from the AWS_* values set here.
    """
    bucket = f"weft-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = moto_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_QUERYSTRING_EXPIRE = 60
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    return S3Bucket(name=bucket, client=client)


# -- loopback servers that record every request -----------------------------------------------------


@pytest.fixture
def recording_server() -> Iterator[Callable[..., RecordingServer]]:
    started: list[RecordingServer] = []

    def start(host: str = "127.0.0.1") -> RecordingServer:
        server = RecordingServer(host=host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# -- a server that answers one byte at a time -------------------------------------------------------


@pytest.fixture
def dripping_server() -> Iterator[Callable[..., DrippingServer]]:
    started: list[DrippingServer] = []

    def start(*, prefix: bytes = b"", drip: bytes, tls: ssl.SSLContext | None = None) -> DrippingServer:
        server = DrippingServer(prefix=prefix, drip=drip, tls=tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def connection_attempts(monkeypatch) -> list[tuple[str, int]]:
    """Every address the code under test tries to connect to (the connection still happens)."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append((address[0], address[1]))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    return attempts
