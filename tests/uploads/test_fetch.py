"""The image URL fetcher refuses anything that could reach inside the network (SSRF), before connecting,
bounds each fetch by one deadline and the fetches of a process by a cap, and tells the user no more than
that a URL is not allowed or could not be fetched (the reason, with addresses, goes to the server log).

The fake targets are loopback servers that record every request. They are reachable only through a
policy that lists their address and port explicitly; the production policy is never loosened.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import re
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.files import image_bytes
from uploads.fetch import SafeFetcher
from uploads.fetchpolicy import FetchPolicy, FetchRefused
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
    """A fake DNS: hostname -> addresses; records every lookup. Other names fail as real DNS does."""
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    resolve.lookups = lookups
    return resolve


def refusal(fetcher: SafeFetcher, url: str) -> FetchRefused:
    """The refusal of fetching `url`; its `detail` says why, for the log."""
    with pytest.raises(FetchRefused) as caught:
        fetcher.fetch_image(url)
    return caught.value


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

    assert "is a loopback address" in refusal(fetcher, server.url("/cat.png")).detail

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
    assert re.search(reason, refusal(SafeFetcher(strict_policy()), url).detail)

    assert connection_attempts == []


def test_a_hostname_resolving_to_a_private_address_is_refused(recording_server, connection_attempts):
    server = recording_server()
    server.routes["/cat.png"] = (200, {}, PNG)
    resolver = table_resolver({"images.internal.example": ["127.0.0.1"]})
    fetcher = SafeFetcher(strict_policy(allowed_ports={server.port}, resolver=resolver))

    refused = refusal(fetcher, server.url("/cat.png", host="images.internal.example"))

    assert "images.internal.example is not fetched: 127.0.0.1 is a loopback" in refused.detail

    assert server.hits == []
    assert connection_attempts == []


def test_localhost_through_the_real_resolver_is_refused(recording_server):
    server = recording_server()
    fetcher = SafeFetcher(strict_policy(allowed_ports={server.port}))

    assert "loopback address" in refusal(fetcher, server.url("/cat.png", host="localhost")).detail

    assert server.hits == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(connection_attempts):
    resolver = table_resolver({"mixed.example": ["93.184.215.14", "10.1.2.3"]})

    refused = refusal(SafeFetcher(strict_policy(resolver=resolver)), "https://mixed.example/cat.png")

    assert "10.1.2.3 is a private address" in refused.detail

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

    assert "127.0.0.2 is a loopback address" in refusal(fetcher, allowed.url("/cat.png")).detail

    assert [path for path, _ in allowed.hits] == ["/cat.png"]
    assert internal.hits == []


def test_a_redirect_through_a_hostname_is_checked_again(recording_server):
    server = recording_server()
    server.routes["/a.png"] = (301, {"Location": "http://metadata.example/latest/"}, b"")
    resolver = table_resolver({"metadata.example": ["169.254.169.254"]})
    fetcher = allowing(server, resolver=resolver)

    assert "169.254.169.254 is a link-local address" in refusal(fetcher, server.url("/a.png")).detail

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


# -- what the user is told, and what the log keeps --------------------------------------------------

UNREACHABLE = "The image URL could not be fetched: its host is unknown or not allowed."


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://vm/cat.png", "vm is not fetched: 127.0.0.1 is a loopback address"),
        ("http://db.internal/cat.png", "db.internal is not fetched: 10.0.0.7 is a private address"),
        ("http://nowhere.example/cat.png", "'nowhere.example' cannot be resolved"),
        ("http://empty.example/cat.png", "'empty.example' cannot be resolved"),
        ("http://10.0.0.7/cat.png", "10.0.0.7 is not fetched: 10.0.0.7 is a private address"),
    ],
)
def test_an_internal_or_unknown_host_gets_one_message_and_only_the_log_says_why(caplog, url, detail):
    resolver = table_resolver({"vm": ["127.0.0.1"], "db.internal": ["10.0.0.7"], "empty.example": []})

    with caplog.at_level(logging.WARNING, logger="uploads.fetch"):
        refused = refusal(SafeFetcher(strict_policy(resolver=resolver)), url)

    # One message for every case: which names exist and where they point stays unknown to the user.
    assert str(refused) == refused.message == UNREACHABLE
    host = url.split("/")[2]
    for secret in (host, "127.0.0.1", "10.0.0.7", "loopback", "private", "resolve"):
        assert secret not in refused.message
    [record] = [record for record in caplog.records if record.name == "uploads.fetch"]
    assert record.levelno == logging.WARNING
    assert detail in record.getMessage()


def test_a_redirect_to_an_internal_host_gets_the_same_message(recording_server, caplog):
    server = recording_server()
    server.routes["/a.png"] = (302, {"Location": "http://metadata.example/latest/"}, b"")
    fetcher = allowing(server, resolver=table_resolver({"metadata.example": ["169.254.169.254"]}))

    with caplog.at_level(logging.WARNING, logger="uploads.fetch"):
        refused = refusal(fetcher, server.url("/a.png"))

    assert refused.message == UNREACHABLE
    assert "169.254.169.254 is a link-local address" in caplog.text


def test_connection_errors_are_not_shown_to_the_user(caplog):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there: the connection is refused
    fetcher = SafeFetcher(
        strict_policy(allowed_ports={port}, allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))
    )

    with caplog.at_level(logging.WARNING, logger="uploads.fetch"):
        refused = refusal(fetcher, f"http://127.0.0.1:{port}/cat.png")

    assert refused.message == "The image URL could not be fetched."
    assert "refused" in caplog.text.lower()


def test_the_log_leaves_out_the_query_string_and_credentials(recording_server, caplog):
    server = recording_server()
    server.routes["/cat.png?signature=s3cr3t"] = (200, {}, b"<html>not an image</html>")

    with caplog.at_level(logging.WARNING, logger="uploads.fetch"):
        refusal(SafeFetcher(strict_policy()), "http://user:hunter2@127.0.0.1/cat.png?signature=s3cr3t#x")
        refused = refusal(allowing(server), server.url("/cat.png?signature=s3cr3t"))

    assert refused.message == "The file is not a PNG, JPEG, WebP or GIF image."
    assert "http://127.0.0.1/cat.png" in caplog.text
    assert f"{server.url('/cat.png')}: The file is not a PNG" in caplog.text
    assert "hunter2" not in caplog.text
    assert "s3cr3t" not in caplog.text


# -- one deadline for the whole exchange -----------------------------------------------------------

# Well under the per-read timeout of these tests: every byte would reset a socket timeout.
_HEADER_DRIP = b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 600
_BODY_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n"


@pytest.mark.parametrize(
    ("prefix", "drip"),
    [(b"", _HEADER_DRIP), (_BODY_HEADERS, PNG + b"\0" * 600)],
    ids=["headers", "body"],
)
def test_a_host_that_sends_one_byte_at_a_time_is_cut_off_at_the_deadline(dripping_server, prefix, drip):
    server = dripping_server(prefix=prefix, drip=drip)
    fetcher = allowing(server, timeout_s=5.0, deadline_s=1.0)

    refused = refusal(fetcher, server.url("/cat.png"))

    assert refused.message == "The image host did not answer in time."
    # The server (30 s of bytes to send) sees the connection closed while it is still sending.
    assert server.client_hung_up.wait(timeout=30)
    assert not server.finished_dripping.is_set()


def test_the_deadline_also_ends_a_tls_exchange(dripping_server, tmp_path):
    cert, key = _self_signed(tmp_path, "images.example")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = dripping_server(drip=_HEADER_DRIP, tls=server_context)
    fetcher = allowing(
        server,
        resolver=table_resolver({"images.example": ["127.0.0.1"]}),
        ssl_context=ssl.create_default_context(cafile=cert),
        timeout_s=5.0,
        deadline_s=1.0,
    )

    refused = refusal(fetcher, server.url("/cat.png", host="images.example"))

    assert refused.message == "The image host did not answer in time."
    assert server.client_hung_up.wait(timeout=30)
    assert not server.finished_dripping.is_set()


# -- a cap on concurrent fetches per process --------------------------------------------------------


def _wait_for_hits(server, count: int) -> None:
    for _ in range(600):
        if len(server.hits) >= count:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"the server saw {len(server.hits)} requests, expected {count}")


def test_fetches_over_the_cap_wait_for_a_slot_and_give_up_at_their_deadline(recording_server):
    server = recording_server()
    server.routes["/held.png"] = (200, {}, PNG)
    server.routes["/cat.png"] = (200, {}, PNG)
    release = threading.Event()
    server.held_paths["/held.png"] = release
    results: dict[str, object] = {}

    def fetch(name: str, path: str, deadline_s: float) -> None:
        try:
            results[name] = allowing(server, max_concurrent=1, deadline_s=deadline_s).fetch_image(
                server.url(path)
            )
        except FetchRefused as exc:
            results[name] = exc

    holder = threading.Thread(target=fetch, args=("holder", "/held.png", 60.0))
    holder.start()
    _wait_for_hits(server, 1)

    # Every fetcher of the process shares the cap: this one waits, then fails clearly, never connecting.
    refused = refusal(allowing(server, max_concurrent=1, deadline_s=0.5), server.url("/cat.png"))
    assert refused.message == "Too many images are being fetched at the moment; try again shortly."
    assert [path for path, _ in server.hits] == ["/held.png"]

    # One that may wait longer gets the slot as soon as it is free.
    waiter = threading.Thread(target=fetch, args=("waiter", "/cat.png", 60.0))
    waiter.start()
    release.set()
    holder.join(timeout=60)
    waiter.join(timeout=60)

    assert [path for path, _ in server.hits] == ["/held.png", "/cat.png"]
    assert results["holder"].width == results["waiter"].width == 24


def test_the_fetch_settings_reach_the_policy(settings):
    settings.UPLOAD_FETCH_DEADLINE_SECONDS = 7.5
    settings.UPLOAD_FETCH_MAX_CONCURRENT = 3

    policy = fetch_policy()

    assert (policy.deadline_s, policy.max_concurrent) == (7.5, 3)
