"""Which URLs a user's connection may reach: image URLs' address rules (uploads.fetchpolicy), any port.

Checked when a connection is saved and again when a run is about to use it, after resolving its host:
a name that later resolves to a refused address is caught then. PROVIDER_ALLOWED_NETWORKS exempts
networks (a local Ollama); site connections, set up by operators, are not checked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings

from uploads.fetchpolicy import IPAddress, Resolver, address_refusal, system_resolver


def url_refusal(
    url: str, *, resolver: Resolver = system_resolver, networks_setting: str = "PROVIDER_ALLOWED_NETWORKS"
) -> str | None:
    """Why a user's connection may not call `url` (the rule, for the user), or None when it may; the networks
    exempted are those of `networks_setting` (MCP connections have their own, MCP_ALLOWED_NETWORKS)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the URL is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are allowed"
    if parts.username is not None or parts.password is not None:
        return "a URL with a user name or password is not allowed (put the key in the secret)"
    host = parts.hostname
    if not host:
        return "the URL has no host"
    addresses = _addresses(host, port or (443 if parts.scheme == "https" else 80), resolver)
    if addresses is None:
        return f"{host} does not resolve"
    allowed = _allowed_networks(networks_setting)
    for address in addresses:
        if any(address in network for network in allowed if network.version == address.version):
            continue
        reason = address_refusal(address)
        if reason:
            verb = "is" if str(address) == host.strip("[]") else "resolves to"
            return f"{host} {verb} {_rule(reason)} (not in {networks_setting})"
    return None


def _addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress] | None:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        raw = resolver(host, port)
        return [ipaddress.ip_address(str(value).split("%", 1)[0]) for value in raw] or None
    except (OSError, ValueError):
        return None


def _rule(reason: str) -> str:
    """address_refusal's reason without the address itself ("a loopback address"), not to map a network."""
    return reason.split(" is ", 1)[1] if " is " in reason else reason


def _allowed_networks(setting: str) -> Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in getattr(settings, setting)]
