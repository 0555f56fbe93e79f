"""What a fetch of a user-supplied URL may do, so that the URL cannot reach inside our network (SSRF).

It serves two uses, each with a policy of its own: image URLs (uploads.reader) and HTTP Request nodes
(runs.webclient). The rules, applied to the first URL and again to every redirect target (uploads.fetch
follows at most three):
- only http and https, no user name or password in the URL, only the allowed ports (images: 80 and 443;
  HTTP nodes: any port);
- the host is resolved here, once, and EVERY address it resolves to must be public: loopback,
  private, link-local (169.254.0.0/16, where cloud metadata lives), CGNAT, multicast, reserved,
  unspecified and other non-global ranges are refused, for IPv4, IPv6 and IPv4 embedded in IPv6;
- the checked address is what the download connects to (no second DNS lookup, so a DNS answer that
  changes between check and use cannot redirect us).

What the user is told says only that a URL is not allowed or could not be fetched; why (which address a
name resolved to, that it did not resolve, the socket error) goes to the server log: telling a user that
`vm` is 10.0.0.7 maps our network for them.

`FetchPolicy.allowed_networks` exempts listed networks from the address rule. It is empty unless a
deployment (UPLOAD_FETCH_ALLOWED_NETWORKS, HTTP_ALLOWED_NETWORKS) or a test sets it explicitly.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit, urlunsplit

from uploads.images import describe_size

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""`resolver(host, port)` -> the IP addresses (as strings) the host resolves to; OSError if none."""

MAX_REDIRECTS = 3
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


@dataclass(frozen=True)
class Wording:
    """What the user is told about a fetch, in the words of what is fetched. A refused address and a name
    that does not resolve read the same (`unreachable`), so that the message cannot tell which internal
    names exist."""

    url: str  # "The image URL"
    host: str  # "The image host"
    thing: str  # what is fetched: "The image"
    busy: str

    @property
    def unreachable(self) -> str:
        return f"{self.url} could not be fetched: its host is unknown or not allowed."

    @property
    def not_fetched(self) -> str:
        return f"{self.url} could not be fetched."

    @property
    def too_slow(self) -> str:
        return f"{self.host} did not answer in time."

    def declared_too_large(self, size: int, *, cap: int) -> str:
        return f"{self.thing} is {describe_size(size)}; the limit is {describe_size(cap)}."

    def too_large(self, *, cap: int) -> str:
        """When the size is known only as the cap is passed (no length was sent, or a wrong one)."""
        return f"{self.thing} is larger than the limit of {cap:,} bytes."


IMAGE_WORDING = Wording(
    url="The image URL",
    host="The image host",
    thing="The image",
    busy="Too many images are being fetched at the moment; try again shortly.",
)
REQUEST_WORDING = Wording(
    url="The URL",
    host="The server",
    thing="The response",
    busy="Too many requests are being made at the moment; try again shortly.",
)


class FetchRefused(Exception):
    """The URL may not be fetched, or what it returned is not acceptable (too large, not an image).

    `message` (also `str()`) is for the user; `detail` says why, addresses included, for the log only;
    `too_large` and `timed_out` say which limit refused it, if one did.
    """

    def __init__(
        self, message: str, *, detail: str | None = None, too_large: bool = False, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        self.too_large = too_large
        self.timed_out = timed_out


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    # The decoded size limit of an image (width x height); image fetches only.
    max_pixels: int = 0
    # Of each blocking step (connect, each read); `deadline_s` bounds the whole fetch.
    timeout_s: float = 10.0
    deadline_s: float = 30.0
    # Fetches at once in this process, shared by every fetcher with the same figure (see fetch_slots).
    max_concurrent: int = 8
    # None: any port.
    allowed_ports: Collection[int] | None = (80, 443)
    allowed_networks: Sequence[IPNetwork] = ()
    resolver: Resolver = system_resolver
    # TLS verification settings; tests pass a context that trusts their own certificate.
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    max_redirects: int = MAX_REDIRECTS
    wording: Wording = IMAGE_WORDING


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


@dataclass(frozen=True)
class FetchTarget:
    """A checked URL: its parts, and the address its host resolved to that the download connects to."""

    url: str
    parts: SplitResult
    host: str
    port: int
    ip: str


def check_url(url: str, *, policy: FetchPolicy) -> FetchTarget:
    """Parse and check `url`, resolve its host and check every address; no request is made.

    What is wrong with the URL itself is said as it is; what its host resolves to is not.
    """
    wording = policy.wording
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"{wording.url} is not a valid URL.") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"Only http and https URLs can be fetched, not {parts.scheme or 'this'!r}.")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("URLs with a user name or password are not fetched.")
    host = parts.hostname
    if not host:
        raise FetchRefused(f"{wording.url} has no host.")
    port = port or (443 if parts.scheme == "https" else 80)
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports))
        raise FetchRefused(f"Port {port} is not allowed (allowed: {allowed}).")
    addresses = _resolve(host, port, resolver=policy.resolver, unreachable=wording.unreachable)
    for address in addresses:
        reason = _refusal(address, allowed_networks=policy.allowed_networks)
        if reason:
            raise FetchRefused(wording.unreachable, detail=f"{host} is not fetched: {reason}")
    return FetchTarget(url=url, parts=parts, host=host, port=port, ip=str(addresses[0]))


def _resolve(host: str, port: int, *, resolver: Resolver, unreachable: str) -> list[IPAddress]:
    try:
        # A literal address is used as it is; no resolver is asked about it.
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        raw = resolver(host, port)
    except OSError as exc:
        raise FetchRefused(unreachable, detail=f"the host {host!r} cannot be resolved: {exc}") from exc
    if not raw:
        raise FetchRefused(unreachable, detail=f"the host {host!r} cannot be resolved: no address")
    try:
        # Strip IPv6 zone ids ("fe80::1%eth0"): the address itself decides.
        return [ipaddress.ip_address(str(value).split("%", 1)[0]) for value in raw]
    except ValueError as exc:
        raise FetchRefused(
            unreachable, detail=f"the host {host!r} resolved to something that is not an address: {raw}"
        ) from exc


def _refusal(address: IPAddress, *, allowed_networks: Sequence[IPNetwork]) -> str | None:
    if any(address in network for network in allowed_networks if network.version == address.version):
        return None
    return address_refusal(address)


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
