"""The image URL fetcher refuses anything that could reach inside the network (SSRF), before connecting.

The fake targets are loopback servers that record every request. They are reachable only through a
policy that lists their address and port explicitly; the production policy is never loosened.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.uploads.conftest import image_bytes
from uploads.fetch import FetchPolicy, FetchRefused, SafeFetcher
from uploads.reader import fetch_policy

PNG = image_bytes("PNG", (24, 12))
MAX_BYTES = 1024 * 1024


def strict_policy(**overrides) -> FetchPolicy:
    """The production rules (no allowed networks), with the test server's port allowed."""
    return FetchPolicy(**{"max_bytes": MAX_BYTES, "max_pixels": 1_000_000, "timeout_s": 2.0, **overrides})


def allowing(server, *networks: str, **overrides) -> SafeFetcher:
    """A fetcher that may reach exactly `networks` (default: the server's own address) on its port."""
    nets = networks or (f"{server.host}/128" if ":" in server.host else f"{server.host}/32",)
    return SafeFetcher(
        strict_policy(
            allowed_ports={80, 443, server.port},
            allowed_networks=tuple(ipaddress.ip_network(n) for n in nets),
            **overrides,
        )
    )


def table_resolver(table: dict[str, list[str]]):
    """A fake DNS: hostname -> addresses; records every lookup."""
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return table[host]

    resolve.lookups = lookups
    return resolve


def test_production_policy_allows_no_network_and_only_web_ports(settings):
    policy = fetch_policy()

    assert policy.allowed_networks == ()
    assert set(policy.allowed_ports) == {80, 443}


def test_an_allowed_server_is_fetched_and_the_image_verified(recording_server):
    server = recording_server()
    server.routes["/cat.png"] = (200, {"Content-Type": "image/png"}, PNG)

    image = allowing(server).fetch_image(server.url("/cat.png"))

    assert (image.content_type, image.width, image.height) == ("image/png", 24, 12)
    assert [path for path, _ in server.hits] == ["/cat.png"]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_loopback_addresses_are_refused_without_a_request(recording_server, connection_attempts, host):
    server = recording_server(host)
    server.routes["/cat.png"] = (200, {}, PNG)
    # Its port is allowed, but not its network: only the address rule stands in the way.
    fetcher = SafeFetcher(strict_policy(allowed_ports={server.port}))

    with pytest.raises(FetchRefused, match="is a loopback address"):
        fetcher.fetch_image(server.url("/cat.png"))

    assert server.hits == []
    assert connection_attempts == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/cat.png", "10.0.0.1 is a private address"),
        ("http://192.168.1.20/cat.png", "is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "is a private address"),
        ("http://[::ffff:169.254.169.254]/", "169.254.169.254 is a link-local address"),
        ("http://100.100.100.200/latest/meta-data/", "reserved range"),  # Alibaba metadata, CGNAT space
        ("http://0.0.0.0/", "unspecified address"),
        ("http://224.0.0.1/", "multicast address"),
        ("http://[fe80::1]/", "link-local address"),
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused_before_connecting(
    connection_attempts, url, reason
):
    with pytest.raises(FetchRefused, match=reason):
        SafeFetcher(strict_policy()).fetch_image(url)

    assert connection_attempts == []


def test_a_hostname_resolving_to_a_private_address_is_refused(recording_server, connection_attempts):
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, PNG)
    resolver = table_resolver({"images.internal.example": ["127.0.0.1"]})
    fetcher = SafeFetcher(strict_policy(allowed_ports={server.port}, resolver=resolver))

    refusal = r"images\.internal\.example is not fetched: 127\.0\.0\.1 is a loopback"
    with pytest.raises(FetchRefused, match=refusal):
        fetcher.fetch_image(server.url("/cat.png", host="images.internal.example"))

    assert server.hits == []
    assert connection_attempts == []


def test_localhost_through_the_real_resolver_is_refused(recording_server):
    server = recording_server()
    fetcher = SafeFetcher(strict_policy(allowed_ports={server.port}))

    with pytest.raises(FetchRefused, match="loopback address"):
        fetcher.fetch_image(server.url("/cat.png", host="localhost"))

    assert server.hits == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(connection_attempts):
    resolver = table_resolver({"mixed.example": ["93.184.215.14", "10.1.2.3"]})

    with pytest.raises(FetchRefused, match=r"10\.1\.2\.3 is a private address"):
        SafeFetcher(strict_policy(resolver=resolver)).fetch_image("https://mixed.example/cat.png")

    assert connection_attempts == []


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(recording_server):
    allowed = recording_server("127.0.0.1")
    internal = recording_server("127.0.0.2")  # also loopback, but not on the allowlist
    internal.routes["/secret.png"] = (200, {}, PNG)
    allowed.routes["/cat.png"] = (302, {"Location": internal.url("/secret.png")}, b"")
    fetcher = SafeFetcher(
        strict_policy(
            allowed_ports={allowed.port, internal.port},
            allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        )
    )

    with pytest.raises(FetchRefused, match=r"127\.0\.0\.2 is a loopback address"):
        fetcher.fetch_image(allowed.url("/cat.png"))

    assert [path for path, _ in allowed.hits] == ["/cat.png"]
    assert internal.hits == []


def test_a_redirect_through_a_hostname_is_checked_again(recording_server):
    server = recording_server()
    server.routes["/a.png"] = (301, {"Location": "http://metadata.example/latest/"}, b"")
    resolver = table_resolver({"metadata.example": ["169.254.169.254"]})
    fetcher = allowing(server, resolver=resolver)

    with pytest.raises(FetchRefused, match=r"169\.254\.169\.254 is a link-local address"):
        fetcher.fetch_image(server.url("/a.png"))

    assert resolver.lookups == ["metadata.example"]


def test_relative_redirects_are_followed_at_most_three_times(recording_server):
    server = recording_server()
    for hop in range(4):
        server.routes[f"/{hop}"] = (302, {"Location": f"/{hop + 1}"}, b"")
    server.routes["/3"] = (200, {}, PNG)

    assert allowing(server).fetch_image(server.url("/0")).width == 24

    server.hits.clear()
    server.routes["/3"] = (302, {"Location": "/4"}, b"")
    server.routes["/4"] = (200, {}, PNG)
    with pytest.raises(FetchRefused, match="redirected more than 3 times"):
        allowing(server).fetch_image(server.url("/0"))
    assert [path for path, _ in server.hits] == ["/0", "/1", "/2", "/3"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "Only http and https"),
        ("ftp://example.com/cat.png", "Only http and https"),
        ("gopher://127.0.0.1:70/", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("https://user:secret@example.com/cat.png", "user name or password"),
        ("https://example.com:8443/cat.png", "Port 8443 is not allowed"),
        ("http://example.com:22/", "Port 22 is not allowed"),
        ("http://example.com:99999/", "not a valid URL"),
        ("https:///cat.png", "has no host"),
    ],
)
def test_other_schemes_credentials_and_ports_are_refused(connection_attempts, url, reason):
    with pytest.raises(FetchRefused, match=reason):
        SafeFetcher(strict_policy()).fetch_image(url)

    assert connection_attempts == []


def test_a_body_declared_too_large_is_refused_without_reading_it(recording_server):
    server = recording_server()
    server.routes["/big.png"] = (200, {}, PNG + b"\0" * MAX_BYTES)

    with pytest.raises(FetchRefused, match=r"the limit is 1\.0 MiB") as caught:
        allowing(server).fetch_image(server.url("/big.png"))

    assert caught.value.too_large


def test_a_body_without_length_is_cut_off_at_the_cap_while_streaming(recording_server):
    server = recording_server()
    server.routes["/stream.png"] = (200, {}, PNG + b"\0" * (4 * MAX_BYTES))
    server.chunked_paths.add("/stream.png")

    with pytest.raises(FetchRefused, match="larger than the limit") as caught:
        allowing(server).fetch_image(server.url("/stream.png"))

    assert caught.value.too_large


def test_a_non_image_body_is_refused_like_an_upload(recording_server):
    server = recording_server()
    server.routes["/cat.png"] = (200, {"Content-Type": "image/png"}, b"<html>not an image</html>")

    with pytest.raises(FetchRefused, match="not a PNG, JPEG, WebP or GIF image"):
        allowing(server).fetch_image(server.url("/cat.png"))


def test_an_error_status_is_refused(recording_server):
    server = recording_server()

    with pytest.raises(FetchRefused, match="answered HTTP 404"):
        allowing(server).fetch_image(server.url("/missing.png"))


def test_the_checked_address_is_the_one_connected_to_with_the_hostname_as_host(recording_server):
    # The name exists only in the fake DNS: the request can only arrive if the fetcher connects to
    # the address it checked instead of resolving the name a second time.
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, PNG)
    resolver = table_resolver({"cdn.example": ["127.0.0.1"]})

    allowing(server, resolver=resolver).fetch_image(server.url("/cat.png", host="cdn.example"))

    assert resolver.lookups == ["cdn.example"]
    assert server.hits[0][1]["host"] == f"cdn.example:{server.port}"


def test_a_server_that_does_not_answer_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the TCP handshake, never answers
    port = listener.getsockname()[1]
    fetcher = SafeFetcher(
        strict_policy(
            timeout_s=0.3,
            allowed_ports={port},
            allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        )
    )
    try:
        with pytest.raises(FetchRefused, match="did not answer in time"):
            fetcher.fetch_image(f"http://127.0.0.1:{port}/cat.png")
    finally:
        listener.close()


def _self_signed(tmp_path, hostname: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def test_https_connects_to_the_checked_address_and_verifies_the_hostname(recording_server, tmp_path):
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, PNG)
    cert, key = _self_signed(tmp_path, "images.example")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server._httpd.socket = server_context.wrap_socket(server._httpd.socket, server_side=True)
    trusting = ssl.create_default_context(cafile=cert)
    resolver = table_resolver({"images.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    fetcher = allowing(server, resolver=resolver, ssl_context=trusting)

    image = fetcher.fetch_image(f"https://images.example:{server.port}/cat.png")

    assert image.width == 24
    assert server.hits[0][1]["host"] == f"images.example:{server.port}"
    # Same address, another name: the certificate is checked against the name, not the IP.
    with pytest.raises(FetchRefused, match="could not be fetched"):
        fetcher.fetch_image(f"https://other.example:{server.port}/cat.png")
