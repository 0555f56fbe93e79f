"""Send a request to a user-supplied URL that uploads.fetchpolicy allows, hop by hop: an image download (GET,
verified like an upload) or an HTTP Request node's request (any method, headers and body).

- Each hop's URL is checked by uploads.fetchpolicy (at most `max_redirects` redirects); the connection goes
  to the address that was checked, with the hostname sent as Host and TLS SNI;
- one deadline bounds the whole fetch (waiting for a slot, every redirect hop, connect, TLS handshake,
  headers and body): when it passes, a timer shuts the connection down, so a server sending one byte at
  a time cannot hold a socket or a thread; each blocking step also has its own timeout;
- at most `max_concurrent` fetches run at once in a process; more wait for a slot within their deadline;
- a byte cap enforced while streaming; an image is then verified and re-encoded exactly like an upload;
- headers given as the origin's (a credential) go only to the first URL's scheme, host and port: a redirect
  elsewhere is followed without them.

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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from uploads.fetchpolicy import FetchPolicy, FetchRefused, FetchTarget, check_url, loggable_url
from uploads.images import ALLOWED_CONTENT_TYPES, CleanImage, ImageRejected, clean_image

logger = logging.getLogger(__name__)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The system's TLS verification settings. Loading its CA certificates takes 50-150 ms of CPU, and every
    run builds a fetcher: once per process is enough (an SSLContext is safe to share once configured)."""
    return ssl.create_default_context()


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

    def __init__(self, seconds: float, *, too_slow: str) -> None:
        self.seconds = seconds
        self.too_slow = too_slow
        self._ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._guarded: socket.socket | None = None
        self.expired = False

    def remaining(self) -> float:
        """Seconds left; raises once none are."""
        left = self._ends_at - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchRefused(
                self.too_slow, detail=f"the fetch took longer than {self.seconds:g} s", timed_out=True
            )
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


@dataclass(frozen=True)
class FetchedResponse:
    """The final answer of a request, after its redirects: `headers` by lowercase name (repeated ones joined
    with ", "), `body` read up to the policy's byte cap."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class _Outgoing:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


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
        response = self.request("GET", url, headers={"Accept": ", ".join(ALLOWED_CONTENT_TYPES)})
        if response.status != 200:
            raise FetchRefused(
                f"{self.policy.wording.url} answered HTTP {response.status}.",
                detail=f"{loggable_url(url)} answered HTTP {response.status}",
            )
        return response.body

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        origin_headers: Mapping[str, str] | None = None,
    ) -> FetchedResponse:
        """Send `method` to `url` and follow its redirects; any status is answered, not refused.

        `origin_headers` (a credential) are sent only while the request stays on the first URL's origin.
        """
        deadline = _Deadline(self.policy.deadline_s, too_slow=self.policy.wording.too_slow)
        outgoing = _Outgoing(method.upper(), url, _merged({"User-Agent": "Weft"}, headers or {}), body)
        try:
            with self._slot(deadline):
                return self._follow(outgoing, origin_headers=origin_headers or {}, deadline=deadline)
        finally:
            deadline.cancel()

    @contextlib.contextmanager
    def _slot(self, deadline: _Deadline) -> Iterator[None]:
        slots = fetch_slots(self.policy.max_concurrent)
        if not slots.acquire(timeout=deadline.remaining()):
            raise FetchRefused(
                self.policy.wording.busy,
                detail=f"all {self.policy.max_concurrent} fetch slots stayed busy for {deadline.seconds:g} s",
            )
        try:
            yield
        finally:
            slots.release()

    def _follow(
        self, outgoing: _Outgoing, *, origin_headers: Mapping[str, str], deadline: _Deadline
    ) -> FetchedResponse:
        origin: tuple[str, str, int] | None = None
        for _hop in range(self.policy.max_redirects + 1):
            target = check_url(outgoing.url, policy=self.policy)
            here = (target.parts.scheme, target.host, target.port)
            origin = origin or here
            headers = _merged(outgoing.headers, origin_headers) if here == origin else outgoing.headers
            response, location = self._exchange(target, outgoing, headers=headers, deadline=deadline)
            if location is None:
                return response
            outgoing = _redirected(outgoing, status=response.status, location=location)
        wording = self.policy.wording
        raise FetchRefused(f"{wording.url} redirected more than {self.policy.max_redirects} times.")

    def _exchange(
        self, target: FetchTarget, outgoing: _Outgoing, *, headers: Mapping[str, str], deadline: _Deadline
    ) -> tuple[FetchedResponse, str | None]:
        """One hop: the answer, and where it redirects to (None: it is the final answer)."""
        timeout = min(self.policy.timeout_s, self.policy.deadline_s)
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
        wording = self.policy.wording
        try:
            connection.request(outgoing.method, path, body=outgoing.body, headers=dict(headers))
            response = connection.getresponse()
            received = _headers(response)
            if response.status in _REDIRECT_STATUSES:
                location = response.getheader("Location")
                if not location:
                    raise FetchRefused(
                        f"{wording.url} redirected without a Location header.",
                        detail=f"{loggable_url(target.url)} redirected without a Location header",
                    )
                answer = (FetchedResponse(response.status, received, b""), urljoin(target.url, location))
            else:
                body = self._read_capped(response, url=target.url)
                answer = (FetchedResponse(response.status, received, body), None)
        except (OSError, http.client.HTTPException) as exc:
            # After the deadline's timer shut the connection down, any error (or none) is its doing.
            if deadline.expired:
                raise FetchRefused(
                    wording.too_slow,
                    detail=f"{where} took longer than {deadline.seconds:g} s",
                    timed_out=True,
                ) from exc
            if isinstance(exc, TimeoutError):
                raise FetchRefused(
                    wording.too_slow, detail=f"{where} did not answer within {timeout:g} s", timed_out=True
                ) from exc
            raise FetchRefused(wording.not_fetched, detail=f"{where} could not be fetched: {exc!r}") from exc
        except ValueError as exc:
            # http.client refuses a header name or value that would break the request (a line break). This
            # comes after OSError, as a failed certificate check is a ValueError too. Its message quotes the
            # value, which may be a credential: the log does not get it.
            message = "A header name or value is not valid."
            raise FetchRefused(message, detail=f"{where}: {message}") from exc
        finally:
            deadline.release()
            connection.close()
        if deadline.expired:
            # A shut-down connection can also look like a short, complete answer.
            raise FetchRefused(
                wording.too_slow, detail=f"{where} took longer than {deadline.seconds:g} s", timed_out=True
            )
        return answer

    def _read_capped(self, response: http.client.HTTPResponse, *, url: str) -> bytes:
        cap = self.policy.max_bytes
        wording = self.policy.wording
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            message = wording.declared_too_large(int(declared), cap=cap)
            raise FetchRefused(message, detail=f"{loggable_url(url)}: {message}", too_large=True)
        chunks: list[bytes] = []
        received = 0
        while chunk := response.read1(_CHUNK):
            received += len(chunk)
            if received > cap:
                # The server lied about, or did not send, a length: stop reading at the cap.
                message = wording.too_large(cap=cap)
                raise FetchRefused(message, detail=f"{loggable_url(url)}: {message}", too_large=True)
            chunks.append(chunk)
        return b"".join(chunks)


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    received: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        received[key] = f"{received[key]}, {value}" if key in received else value
    return received


def _merged(headers: Mapping[str, str], winning: Mapping[str, str]) -> dict[str, str]:
    """`headers` with `winning` set over them; header names are compared without case, so none is sent
    twice."""
    replaced = {name.lower() for name in winning}
    return {**{k: v for k, v in headers.items() if k.lower() not in replaced}, **winning}


def _redirected(outgoing: _Outgoing, *, status: int, location: str) -> _Outgoing:
    """The request a redirect asks for: a GET without the body where browsers send one (after a 303, and after
    a 301 or 302 answering a POST), else the same request again."""
    to_get = status == 303 or (status in (301, 302) and outgoing.method == "POST")
    if to_get and outgoing.method != "HEAD":
        headers = {k: v for k, v in outgoing.headers.items() if k.lower() != "content-type"}
        return _Outgoing("GET", location, headers, None)
    return _Outgoing(outgoing.method, location, outgoing.headers, outgoing.body)
