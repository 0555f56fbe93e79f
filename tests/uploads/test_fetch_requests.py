"""The fetcher's general requests (HTTP Request nodes): any method, headers and body, redirects as browsers
follow them, and a credential that stays with the origin it was given for."""

from __future__ import annotations

import ipaddress

import pytest

from tests.fakes.http_servers import EchoServer
from uploads.fetch import SafeFetcher
from uploads.fetchpolicy import REQUEST_WORDING, FetchPolicy, FetchRefused


def loopback_fetcher(**overrides) -> SafeFetcher:
    """Any port of 127.0.0.1, as HTTP_ALLOWED_NETWORKS = 127.0.0.1/32 allows it."""
    return SafeFetcher(
        FetchPolicy(
            max_bytes=1024 * 1024,
            timeout_s=5.0,
            allowed_ports=None,
            allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
            wording=REQUEST_WORDING,
            **overrides,
        )
    )


@pytest.fixture
def other_server():
    server = EchoServer()
    yield server
    server.stop()


def test_a_request_carries_its_method_headers_and_body_and_any_status_is_answered(echo_server):
    fetcher = loopback_fetcher()

    answer = fetcher.request(
        "PATCH", echo_server.url("/echo"), headers={"X-One": "1", "user-agent": "mine"}, body=b"patch me"
    )
    missing = fetcher.request("GET", echo_server.url("/status/418"))

    (seen, _) = echo_server.requests
    assert (seen.method, seen.headers["x-one"], seen.body) == ("PATCH", "1", b"patch me")
    assert seen.headers["user-agent"] == "mine"
    assert answer.status == 200
    assert answer.headers["x-echo-x-one"] == "1"
    assert (missing.status, missing.body) == (418, b'{"status": 418}')


def test_a_303_turns_a_post_into_a_get_without_its_body(echo_server):
    target = echo_server.url("/echo")

    loopback_fetcher().request(
        "POST",
        echo_server.url(f"/redirect/303?to={target}"),
        headers={"Content-Type": "text/plain"},
        body=b"x",
    )

    followed = echo_server.requests[1]
    assert (followed.method, followed.body, "content-type" in followed.headers) == ("GET", b"", False)


def test_origin_headers_are_not_sent_to_another_origin_after_a_redirect(echo_server, other_server):
    elsewhere = other_server.url("/echo")
    same_origin = echo_server.url("/echo")
    fetcher = loopback_fetcher()

    fetcher.request("GET", echo_server.url(f"/redirect/302?to={same_origin}"), origin_headers={"X-Key": "k1"})
    fetcher.request("GET", echo_server.url(f"/redirect/302?to={elsewhere}"), origin_headers={"X-Key": "k2"})

    assert [seen.headers.get("x-key") for seen in echo_server.requests] == ["k1", "k1", "k2"]
    assert "x-key" not in other_server.requests[0].headers


def test_a_header_with_a_line_break_is_refused_and_the_log_does_not_quote_it(echo_server):
    with pytest.raises(FetchRefused) as caught:
        loopback_fetcher().request("GET", echo_server.url(), headers={"X-Key": "s3cret\r\nX-Evil: 1"})

    assert caught.value.message == "A header name or value is not valid."
    assert "s3cret" not in caught.value.detail
    assert echo_server.requests == []
