"""Download an image from a user-supplied URL that uploads.fetchpolicy allows, hop by hop.

- Each hop's URL is checked by uploads.fetchpolicy (at most `max_redirects` redirects); the connection goes
  to the address that was checked, with the hostname sent as Host and TLS SNI;
- one deadline bounds the whole fetch (waiting for a slot, every redirect hop, connect, TLS handshake,
  headers and body): when it passes, a timer shuts the connection down, so a server sending one byte at
  a time cannot hold a socket or a thread; each blocking step also has its own timeout;
- at most `max_concurrent` fetches run at once in a process; more wait for a slot within their deadline;
- a byte cap enforced while streaming; the body is then verified and re-encoded exactly like an upload.

Why a fetch was refused goes to the server log (this module's logger), never to the user.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from urllib.parse import urljoin

from uploads.fetchpolicy import (
    NOT_FETCHED,
    TOO_BUSY,
    TOO_SLOW,
    FetchPolicy,
    FetchRefused,
    FetchTarget,
    check_url,
    loggable_url,
)
from uploads.images import ALLOWED_CONTENT_TYPES, CleanImage, ImageRejected, check_size, clean_image

logger = logging.getLogger(__name__)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@functools.cache
def fetch_slots(limit: int) -> threading.BoundedSemaphore:
    """The process-wide slots for `limit` concurrent fetches: one semaphore per figure, so that every
    fetcher built from the same setting shares it."""
    return threading.BoundedSemaphore(limit)


class _Deadline:
    """One time limit for a whole fetch.

    Socket timeouts bound each blocking call, and every byte that arrives starts a new one; so, once a
    connection is open, a timer shuts it down when the deadline passes, which ends a read blocked on a
    server that sends one byte at a time. The timer starts with the first connection.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._guarded: socket.socket | None = None
        self.expired = False

    def remaining(self) -> float:
        """Seconds left; raises once none are."""
        left = self._ends_at - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchRefused(TOO_SLOW, detail=f"the fetch took longer than {self.seconds:g} s")
        return left

    def guard(self, sock: socket.socket) -> None:
        """Shut `sock`'s connection down if it is still open when the deadline passes."""
        with self._lock:
            self._unguard()
            # Under the lock the timer takes: a connection opened just as the deadline passed is refused
            # here rather than left unguarded.
            left = self.remaining()
            # A duplicate descriptor of the same connection: shutting it down ends the connection for
            # every descriptor (the TLS wrapper takes the original one over), and as it is ours, it can
            # never be a number that the fetching thread closed and the process reused meanwhile.
            self._guarded = sock.dup()
            if self._timer is None:
                self._timer = threading.Timer(left, self._expire)
                self._timer.daemon = True
                self._timer.start()

    def release(self) -> None:
        with self._lock:
            self._unguard()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.release()

    def _unguard(self) -> None:
        if self._guarded is not None:
            self._guarded.close()
            self._guarded = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._guarded is not None:
                with contextlib.suppress(OSError):
                    self._guarded.shutdown(socket.SHUT_RDWR)


def _connect(ip: str, port: int, *, timeout: float, deadline: _Deadline) -> socket.socket:
    sock = socket.create_connection((ip, port), min(timeout, deadline.remaining()))
    try:
        deadline.guard(sock)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already-checked IP while speaking to `host` (the Host header)."""

    def __init__(self, host: str, port: int, *, ip: str, timeout: float, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_ip = ip
        self.deadline = deadline

    def connect(self) -> None:
        self.sock = _connect(self.pinned_ip, self.port, timeout=self.timeout, deadline=self.deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, *, ip: str, timeout: float, deadline: _Deadline, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.pinned_ip = ip
        self.deadline = deadline

    def connect(self) -> None:
        sock = _connect(self.pinned_ip, self.port, timeout=self.timeout, deadline=self.deadline)
        # SNI and certificate checks use the hostname, not the IP we connected to.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class SafeFetcher:
    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy

    def fetch_image(self, url: str) -> CleanImage:
        try:
            data = self.fetch_bytes(url)
            try:
                return clean_image(data, max_bytes=self.policy.max_bytes, max_pixels=self.policy.max_pixels)
            except ImageRejected as exc:
                raise FetchRefused(
                    exc.message, detail=f"{loggable_url(url)}: {exc.message}", too_large=exc.too_large
                ) from exc
        except FetchRefused as exc:
            logger.warning("Image URL %s not fetched: %s", loggable_url(url), exc.detail)
            raise

    def fetch_bytes(self, url: str) -> bytes:
        deadline = _Deadline(self.policy.deadline_s)
        try:
            with self._slot(deadline):
                return self._follow(url, deadline=deadline)
        finally:
            deadline.cancel()

    @contextlib.contextmanager
    def _slot(self, deadline: _Deadline) -> Iterator[None]:
        slots = fetch_slots(self.policy.max_concurrent)
        if not slots.acquire(timeout=deadline.remaining()):
            raise FetchRefused(
                TOO_BUSY,
                detail=f"all {self.policy.max_concurrent} fetch slots stayed busy for {deadline.seconds:g} s",
            )
        try:
            yield
        finally:
            slots.release()

    def _follow(self, url: str, *, deadline: _Deadline) -> bytes:
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            target = check_url(current, policy=self.policy)
            status, location, body = self._get(target, deadline=deadline)
            if status in _REDIRECT_STATUSES:
                if not location:
                    raise FetchRefused(
                        "The image URL redirected without a Location header.",
                        detail=f"{loggable_url(current)} redirected without a Location header",
                    )
                current = urljoin(current, location)
                continue
            if status != 200:
                raise FetchRefused(
                    f"The image URL answered HTTP {status}.",
                    detail=f"{loggable_url(current)} answered HTTP {status}",
                )
            return body
        raise FetchRefused(f"The image URL redirected more than {self.policy.max_redirects} times.")

    def _get(self, target: FetchTarget, *, deadline: _Deadline) -> tuple[int, str | None, bytes]:
        timeout = self.policy.timeout_s
        connection: http.client.HTTPConnection
        if target.parts.scheme == "https":
            connection = _PinnedHTTPSConnection(
                target.host,
                target.port,
                ip=target.ip,
                timeout=timeout,
                deadline=deadline,
                context=self.policy.ssl_context,
            )
        else:
            connection = _PinnedHTTPConnection(
                target.host, target.port, ip=target.ip, timeout=timeout, deadline=deadline
            )
        path = target.parts.path or "/"
        if target.parts.query:
            path = f"{path}?{target.parts.query}"
        where = f"{loggable_url(target.url)} ({target.ip})"
        try:
            connection.request(
                "GET",
                path,
                headers={"Accept": ", ".join(ALLOWED_CONTENT_TYPES), "User-Agent": "Weft"},
            )
            response = connection.getresponse()
            if response.status in _REDIRECT_STATUSES:
                answer: tuple[int, str | None, bytes] = (response.status, response.getheader("Location"), b"")
            elif response.status != 200:
                answer = (response.status, None, b"")
            else:
                answer = (200, None, self._read_capped(response, url=target.url))
        except (OSError, http.client.HTTPException) as exc:
            # After the deadline's timer shut the connection down, any error (or none) is its doing.
            if deadline.expired:
                raise FetchRefused(
                    TOO_SLOW, detail=f"{where} took longer than {deadline.seconds:g} s"
                ) from exc
            if isinstance(exc, TimeoutError):
                raise FetchRefused(TOO_SLOW, detail=f"{where} did not answer within {timeout:g} s") from exc
            raise FetchRefused(NOT_FETCHED, detail=f"{where} could not be fetched: {exc!r}") from exc
        finally:
            deadline.release()
            connection.close()
        if deadline.expired:
            # A shut-down connection can also look like a short, complete answer.
            raise FetchRefused(TOO_SLOW, detail=f"{where} took longer than {deadline.seconds:g} s")
        return answer

    def _read_capped(self, response: http.client.HTTPResponse, *, url: str) -> bytes:
        cap = self.policy.max_bytes
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit():
            try:
                check_size(int(declared), max_bytes=cap)
            except ImageRejected as exc:
                raise FetchRefused(
                    exc.message, detail=f"{loggable_url(url)}: {exc.message}", too_large=True
                ) from exc
        chunks: list[bytes] = []
        received = 0
        while chunk := response.read1(_CHUNK):
            received += len(chunk)
            if received > cap:
                # The server lied about, or did not send, a length: stop reading at the cap.
                message = f"The image is larger than the limit of {cap:,} bytes."
                raise FetchRefused(message, detail=f"{loggable_url(url)}: {message}", too_large=True)
            chunks.append(chunk)
        return b"".join(chunks)
