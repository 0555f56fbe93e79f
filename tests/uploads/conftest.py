"""Uploads fixtures: a private MEDIA_ROOT per test, moto's S3 server, loopback servers that record hits or
answer one byte at a time."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

MOTO_SERVER = Path(sys.executable).with_name("moto_server")


@pytest.fixture(autouse=True)
def _private_media_root(media_root: Path) -> Path:
    """Every test stores files in its own folder (tests/fixtures/storage.py)."""
    return media_root


# -- moto's S3 server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"moto_server did not listen on port {port} within {timeout_s} s")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's server mode) on loopback, for the whole session."""
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class S3Bucket:
    name: str
    client: Any

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return [item["Key"] for item in listing.get("Contents", [])]


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


@dataclass
class RecordingServer:
    """An HTTP server on a loopback address; `routes` maps a path to (status, headers, body)."""

    host: str = "127.0.0.1"
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # Serve the body in pieces without a Content-Length (to prove the streaming cap).
    chunked_paths: set[str] = field(default_factory=set)
    # A request to one of these paths is recorded, then answered only once its event is set.
    held_paths: dict[str, threading.Event] = field(default_factory=dict)

    def __post_init__(self) -> None:
        server_class = _IPv6Server if ":" in self.host else _QuietServer
        self._httpd = server_class((self.host, 0), _recording_handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        # A short poll interval keeps shutdown() (each test's teardown) fast.
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"http://{name}:{self.port}{path}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up early (a refused oversize body) is expected here


class _IPv6Server(_QuietServer):
    address_family = socket.AF_INET6


def _recording_handler(server: RecordingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            server.hits.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.path in server.held_paths:
                server.held_paths[self.path].wait(timeout=60)
            status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if self.path in server.chunked_paths:
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for start in range(0, len(body), 65536):
                        self.wfile.write(body[start : start + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading at its cap, as it should
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return Handler


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


@dataclass
class DrippingServer:
    """A loopback server that answers every request by sending `prefix` at once, then `drip` one byte
    every `interval_s`, then hanging up. It records whether the client hung up first."""

    prefix: bytes
    drip: bytes
    interval_s: float = 0.05
    tls: ssl.SSLContext | None = None
    host: str = "127.0.0.1"
    client_hung_up: threading.Event = field(default_factory=threading.Event)
    finished_dripping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server((self.host, 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # stopped
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            conn = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    received = conn.recv(4096)
                    if not received:
                        return
                    request += received
                conn.sendall(self.prefix)
                for index in range(len(self.drip)):
                    conn.sendall(self.drip[index : index + 1])
                    if self._stopped.is_set():
                        return
                    if self._hung_up(conn):
                        self.client_hung_up.set()
                        return
                self.finished_dripping.set()
        except OSError:
            self.client_hung_up.set()

    def _hung_up(self, conn: socket.socket) -> bool:
        """Waits one interval; a client that only listens becomes readable when it hangs up."""
        readable, _, _ = select.select([conn], [], [], self.interval_s)
        if not readable:
            return False
        try:
            return conn.recv(1) == b""
        except (OSError, ssl.SSLError):
            return True


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
