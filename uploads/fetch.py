"""Fetch an image from a user-supplied URL without letting the URL reach inside our network (SSRF).

The rules, applied to the first URL and again to every redirect target (at most three):
- only http and https, no user name or password in the URL, only the allowed ports (80 and 443);
- the host is resolved here, once, and EVERY address it resolves to must be public: loopback,
  private, link-local (169.254.0.0/16, where cloud metadata lives), CGNAT, multicast, reserved,
  unspecified and other non-global ranges are refused, for IPv4, IPv6 and IPv4 embedded in IPv6;
- the connection goes to the address that was checked (no second DNS lookup, so a DNS answer that
  changes between check and use cannot redirect us), with the hostname sent as Host and TLS SNI;
- one deadline bounds the whole fetch (waiting for a slot, every redirect hop, connect, TLS handshake,
  headers and body): when it passes, a timer shuts the connection down, so a server sending one byte at
  a time cannot hold a socket or a thread; each blocking step also has its own timeout;
- at most `max_concurrent` fetches run at once in a process; more wait for a slot within their deadline;
- a byte cap enforced while streaming; the body is then verified and re-encoded exactly like an upload.

What the user is told says only that a URL is not allowed or could not be fetched; why (which address a
name resolved to, that it did not resolve, the socket error) goes to the server log: telling a user that
`vm` is 10.0.0.7 maps our network for them.

`FetchPolicy.allowed_networks` exempts listed networks from the address rule. It is empty unless a
deployment (UPLOAD_FETCH_ALLOWED_NETWORKS) or a test sets it explicitly.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from uploads.images import ALLOWED_CONTENT_TYPES, CleanImage, ImageRejected, check_size, clean_image

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""`resolver(host, port)` -> the IP addresses (as strings) the host resolves to; OSError if none."""

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Not covered by the `is_*` properties of every Python version, so listed explicitly.
_ALWAYS_BLOCKED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (RFC 6598)
    ipaddress.ip_network("0.0.0.0/8"),  # "this network"
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CHECKS = (
    ("loopback", "a loopback address"),
    ("link_local", "a link-local address"),
    ("multicast", "a multicast address"),
    ("unspecified", "an unspecified address"),
    ("reserved", "a reserved address"),
    ("private", "a private address"),
)


# What the user is told. A refused address and a name that does not resolve read the same, so that the
# message cannot tell which internal names exist.
UNREACHABLE = "The image URL could not be fetched: its host is unknown or not allowed."
NOT_FETCHED = "The image URL could not be fetched."
TOO_SLOW = "The image host did not answer in time."
TOO_BUSY = "Too many images are being fetched at the moment; try again shortly."


class FetchRefused(Exception):
    """The URL may not be fetched, or what it returned is not an acceptable image.

    `message` (also `str()`) is for the user; `detail` says why, addresses included, for the log only.
    """

    def __init__(self, message: str, *, detail: str | None = None, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        self.too_large = too_large


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    max_pixels: int
    # Of each blocking step (connect, each read); `deadline_s` bounds the whole fetch.
    timeout_s: float = 10.0
    deadline_s: float = 30.0
    # Fetches at once in this process, shared by every fetcher with the same figure (see fetch_slots).
    max_concurrent: int = 8
    allowed_ports: Collection[int] = (80, 443)
    allowed_networks: Sequence[IPNetwork] = ()
    resolver: Resolver = system_resolver
    # TLS verification settings; tests pass a context that trusts their own certificate.
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    max_redirects: int = MAX_REDIRECTS


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` may not be contacted, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = address_refusal(inner)
            if reason:
                return f"{reason} (embedded in {address})"
            if address.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d is a.b.c.d, which was just found public
    # Most specific first, so that the message names the real reason (169.254.x.x is "private" too).
    for name, label in _CHECKS:
        if getattr(address, f"is_{name}"):
            return f"{address} is {label}"
    if any(address in network for network in _ALWAYS_BLOCKED if network.version == address.version):
        return f"{address} is in a reserved range"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


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


@dataclass(frozen=True)
class _Target:
    url: str
    parts: SplitResult
    host: str
    port: int
    ip: str


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
            target = self.check_url(current)
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

    def check_url(self, url: str) -> _Target:
        """Parse and check `url`, resolve its host and check every address; no request is made.

        What is wrong with the URL itself is said as it is; what its host resolves to is not.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused("The image URL is not a valid URL.") from exc
        if parts.scheme not in ("http", "https"):
            raise FetchRefused(f"Only http and https URLs can be fetched, not {parts.scheme or 'this'!r}.")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused("URLs with a user name or password are not fetched.")
        host = parts.hostname
        if not host:
            raise FetchRefused("The image URL has no host.")
        port = port or (443 if parts.scheme == "https" else 80)
        if port not in self.policy.allowed_ports:
            allowed = ", ".join(str(p) for p in sorted(self.policy.allowed_ports))
            raise FetchRefused(f"Port {port} is not allowed (allowed: {allowed}).")
        addresses = self._resolve(host, port)
        for address in addresses:
            reason = self._refusal(address)
            if reason:
                raise FetchRefused(UNREACHABLE, detail=f"{host} is not fetched: {reason}")
        return _Target(url=url, parts=parts, host=host, port=port, ip=str(addresses[0]))

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            # A literal address is used as it is; no resolver is asked about it.
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            raw = self.policy.resolver(host, port)
        except OSError as exc:
            raise FetchRefused(UNREACHABLE, detail=f"the host {host!r} cannot be resolved: {exc}") from exc
        if not raw:
            raise FetchRefused(UNREACHABLE, detail=f"the host {host!r} cannot be resolved: no address")
        try:
            # Strip IPv6 zone ids ("fe80::1%eth0"): the address itself decides.
            return [ipaddress.ip_address(str(value).split("%", 1)[0]) for value in raw]
        except ValueError as exc:
            raise FetchRefused(
                UNREACHABLE, detail=f"the host {host!r} resolved to something that is not an address: {raw}"
            ) from exc

    def _refusal(self, address: IPAddress) -> str | None:
        if any(
            address in network
            for network in self.policy.allowed_networks
            if network.version == address.version
        ):
            return None
        return address_refusal(address)

    def _get(self, target: _Target, *, deadline: _Deadline) -> tuple[int, str | None, bytes]:
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


def loggable_url(url: str) -> str:
    """`url` without user name, password, query or fragment, which may carry credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return "<malformed URL>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
