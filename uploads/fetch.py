"""Fetch an image from a user-supplied URL without letting the URL reach inside our network (SSRF).

The rules, applied to the first URL and again to every redirect target (at most three):
- only http and https, no user name or password in the URL, only the allowed ports (80 and 443);
- the host is resolved here, once, and EVERY address it resolves to must be public: loopback,
  private, link-local (169.254.0.0/16, where cloud metadata lives), CGNAT, multicast, reserved,
  unspecified and other non-global ranges are refused, for IPv4, IPv6 and IPv4 embedded in IPv6;
- the connection goes to the address that was checked (no second DNS lookup, so a DNS answer that
  changes between check and use cannot redirect us), with the hostname sent as Host and TLS SNI;
- connect and read timeouts plus an overall deadline, and a byte cap enforced while streaming;
- the body is then verified and re-encoded exactly like an upload.

`FetchPolicy.allowed_networks` exempts listed networks from the address rule. It is empty unless a
deployment (UPLOAD_FETCH_ALLOWED_NETWORKS) or a test sets it explicitly.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urljoin, urlsplit

from uploads.images import CleanImage, ImageRejected, check_size, clean_image

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""`resolver(host, port)` -> the IP addresses (as strings) the host resolves to."""

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


class FetchRefused(Exception):
    """The URL may not be fetched, or what it returned is not an acceptable image."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefused(f"The host {host!r} cannot be resolved.") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    max_pixels: int
    timeout_s: float = 10.0
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


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already-checked IP while speaking to `host` (the Host header)."""

    def __init__(self, host: str, port: int, *, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, ip: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.pinned_ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_ip, self.port), self.timeout)
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
        data = self.fetch_bytes(url)
        try:
            return clean_image(data, max_bytes=self.policy.max_bytes, max_pixels=self.policy.max_pixels)
        except ImageRejected as exc:
            raise FetchRefused(f"{url}: {exc.message}", too_large=exc.too_large) from exc

    def fetch_bytes(self, url: str) -> bytes:
        deadline = time.monotonic() + 3 * self.policy.timeout_s
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            target = self.check_url(current)
            status, location, body = self._get(target, deadline=deadline)
            if status in _REDIRECT_STATUSES:
                if not location:
                    raise FetchRefused(f"{current} redirected without a Location header.")
                current = urljoin(current, location)
                continue
            if status != 200:
                raise FetchRefused(f"{current} answered HTTP {status}.")
            return body
        raise FetchRefused(f"{url} redirected more than {self.policy.max_redirects} times.")

    def check_url(self, url: str) -> _Target:
        """Parse and check `url`, resolve its host and check every address; no request is made."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused(f"{url!r} is not a valid URL.") from exc
        if parts.scheme not in ("http", "https"):
            raise FetchRefused(f"Only http and https URLs can be fetched, not {parts.scheme or 'this'!r}.")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused("URLs with a user name or password are not fetched.")
        host = parts.hostname
        if not host:
            raise FetchRefused(f"{url!r} has no host.")
        port = port or (443 if parts.scheme == "https" else 80)
        if port not in self.policy.allowed_ports:
            allowed = ", ".join(str(p) for p in sorted(self.policy.allowed_ports))
            raise FetchRefused(f"Port {port} is not allowed (allowed: {allowed}).")
        addresses = self._resolve(host, port)
        for address in addresses:
            reason = self._refusal(address)
            if reason:
                raise FetchRefused(f"{host} is not fetched: {reason}.")
        return _Target(url=url, parts=parts, host=host, port=port, ip=str(addresses[0]))

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            # A literal address is used as it is; no resolver is asked about it.
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        raw = self.policy.resolver(host, port)
        if not raw:
            raise FetchRefused(f"The host {host!r} cannot be resolved.")
        try:
            # Strip IPv6 zone ids ("fe80::1%eth0"): the address itself decides.
            return [ipaddress.ip_address(str(value).split("%", 1)[0]) for value in raw]
        except ValueError as exc:
            raise FetchRefused(f"The host {host!r} resolved to something that is not an address.") from exc

    def _refusal(self, address: IPAddress) -> str | None:
        if any(
            address in network
            for network in self.policy.allowed_networks
            if network.version == address.version
        ):
            return None
        return address_refusal(address)

    def _get(self, target: _Target, *, deadline: float) -> tuple[int, str | None, bytes]:
        timeout = self.policy.timeout_s
        connection: http.client.HTTPConnection
        if target.parts.scheme == "https":
            connection = _PinnedHTTPSConnection(
                target.host, target.port, ip=target.ip, timeout=timeout, context=self.policy.ssl_context
            )
        else:
            connection = _PinnedHTTPConnection(target.host, target.port, ip=target.ip, timeout=timeout)
        path = target.parts.path or "/"
        if target.parts.query:
            path = f"{path}?{target.parts.query}"
        try:
            connection.request(
                "GET",
                path,
                headers={"Accept": "image/png, image/jpeg, image/webp, image/gif", "User-Agent": "Weft"},
            )
            response = connection.getresponse()
            if response.status in _REDIRECT_STATUSES:
                return response.status, response.getheader("Location"), b""
            if response.status != 200:
                return response.status, None, b""
            return 200, None, self._read_capped(response, deadline=deadline, url=target.url)
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError | socket.timeout):
                raise FetchRefused(f"{target.url} did not answer in time.") from exc
            raise FetchRefused(f"{target.url} could not be fetched: {exc}.") from exc
        finally:
            connection.close()

    def _read_capped(self, response: http.client.HTTPResponse, *, deadline: float, url: str) -> bytes:
        cap = self.policy.max_bytes
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit():
            try:
                check_size(int(declared), max_bytes=cap)
            except ImageRejected as exc:
                raise FetchRefused(f"{url}: {exc.message}", too_large=True) from exc
        chunks: list[bytes] = []
        received = 0
        while chunk := response.read1(_CHUNK):
            received += len(chunk)
            if received > cap:
                # The server lied about, or did not send, a length: stop reading at the cap.
                raise FetchRefused(
                    f"{url}: the image is larger than the limit of {cap:,} bytes.", too_large=True
                )
            if time.monotonic() > deadline:
                raise FetchRefused(f"{url} took too long to send the image.")
            chunks.append(chunk)
        return b"".join(chunks)
