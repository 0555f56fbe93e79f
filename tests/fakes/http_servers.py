"""Loopback HTTP servers for fetch tests: one that records every request and answers from its routes, one
that answers one byte at a time, and one that echoes any request back (for HTTP Request nodes)."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


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


@dataclass
class EchoedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class EchoServer:
    """A loopback HTTP server for HTTP Request nodes; it answers every method and records every request.

    - `/echo` (any path not below): 200 with JSON `{method, path, query, headers, body}` of the request, and
      each request header again as a response header `x-echo-<name>`;
    - `/status/<n>`: status n with JSON `{"status": n}`; `/text`: 200 with a plain-text body;
    - `/redirect/<n>?to=<url>`: status n (a redirect) to `url`;
    - `/slow`: the headers at once, then one byte, then nothing until the server stops;
    - `/huge?bytes=<n>`: n bytes, sent without a Content-Length.
    """

    host: str = "127.0.0.1"
    requests: list[EchoedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stopped = threading.Event()
        self._httpd = _QuietServer((self.host, 0), _echo_handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str = "/echo") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _echo_handler(server: EchoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle_one_request(self) -> None:
            # Every method is answered the same way: do_GET, do_POST... all end here.
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._answer()
            self.wfile.flush()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = EchoedRequest(self.command, parts.path, parse_qs(parts.query), headers, body)
            server.requests.append(request)
            segments = parts.path.strip("/").split("/")
            if segments[0] == "status":
                self._send(
                    int(segments[1]),
                    {"Content-Type": "application/json"},
                    b'{"status": %d}' % int(segments[1]),
                )
            elif segments[0] == "text":
                self._send(200, {"Content-Type": "text/plain; charset=utf-8"}, "plain wörds".encode())
            elif segments[0] == "redirect":
                self._send(int(segments[1]), {"Location": request.query["to"][0]}, b"")
            elif segments[0] == "slow":
                self._slow()
            elif segments[0] == "huge":
                self._huge(int(request.query["bytes"][0]))
            else:
                echoed = {
                    "method": self.command,
                    "path": parts.path,
                    "query": request.query,
                    "headers": headers,
                    "body": body.decode("utf-8", errors="replace"),
                }
                extra = {f"x-echo-{name}": value for name, value in headers.items()}
                self._send(200, {"Content-Type": "application/json", **extra}, json.dumps(echoed).encode())

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        def _slow(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(b"x")
                self.wfile.flush()
                server._stopped.wait(timeout=60)
            self.close_connection = True

        def _huge(self, size: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for start in range(0, size, 65536):
                    self.wfile.write(b"x" * min(65536, size - start))
            self.close_connection = True

    return Handler
