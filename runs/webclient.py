"""The engine's `WebClient` for a run: the requests of HTTP Request nodes go through the SSRF-safe fetcher of
uploads, under their own policy (HTTP_ALLOWED_NETWORKS, any port, the node's deadline, a byte cap)."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings

import engine
from uploads.fetch import SafeFetcher, shared_tls_context
from uploads.fetchpolicy import REQUEST_WORDING, FetchPolicy, FetchRefused, loggable_url

logger = logging.getLogger(__name__)


def http_fetch_policy(*, deadline_s: float, max_bytes: int) -> FetchPolicy:
    """The rules of one HTTP node request: the SSRF address rules of image URLs, with HTTP_ALLOWED_NETWORKS
    exempt, on any port. The node's timeout bounds the whole exchange; the requests share the process's
    fetch slots with image URLs."""
    return FetchPolicy(
        max_bytes=max_bytes,
        timeout_s=deadline_s,
        deadline_s=deadline_s,
        max_concurrent=settings.UPLOAD_FETCH_MAX_CONCURRENT,
        allowed_ports=None,
        allowed_networks=tuple(ipaddress.ip_network(net) for net in settings.HTTP_ALLOWED_NETWORKS),
        ssl_context=shared_tls_context(),
        wording=REQUEST_WORDING,
    )


class FetchingWebClient:
    """Makes HTTP node requests; why one was refused goes to the server log, the user reads what
    uploads.fetchpolicy tells them."""

    def send(self, request: engine.WebRequest) -> engine.WebResponse:
        max_bytes = settings.RUN_MAX_NODE_OUTPUT_BYTES if request.max_bytes is None else request.max_bytes
        fetcher = SafeFetcher(http_fetch_policy(deadline_s=request.timeout_s, max_bytes=max_bytes))
        try:
            response = fetcher.request(
                request.method, request.url, headers=dict(request.headers), body=request.body
            )
        except FetchRefused as exc:
            logger.warning("HTTP node request to %s not made: %s", loggable_url(request.url), exc.detail)
            kind = "output_limit" if exc.too_large else "http_timeout" if exc.timed_out else "http_refused"
            raise engine.WebError(kind, exc.message) from exc
        return engine.WebResponse(status=response.status, headers=response.headers, body=response.body)
