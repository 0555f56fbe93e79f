"""The engine's `WebClient` for a run: the requests of HTTP Request nodes go through the SSRF-safe fetcher of
uploads, under their own policy (HTTP_ALLOWED_NETWORKS, any port, the node's deadline, a byte cap), with the
headers of the HTTP connection a node names in `auth` added as they are sent."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.db import connection

import engine
from accounts.models import User
from connections.selectors import http_auth_headers
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
    """Makes the HTTP node requests of `owner`'s run; why one was refused goes to the server log, the user
    reads what uploads.fetchpolicy tells them.

    A request's `auth` connection is looked up when it is sent (a connection deleted since the run started
    fails the node): its headers go to the first URL's origin only, and their values come back as the
    response's `secrets`, for the node to redact from what it stores."""

    def __init__(self, *, owner: User) -> None:
        self.owner = owner

    def send(self, request: engine.WebRequest) -> engine.WebResponse:
        credentials = self._auth_headers(request.auth) if request.auth else {}
        max_bytes = settings.RUN_MAX_NODE_OUTPUT_BYTES if request.max_bytes is None else request.max_bytes
        fetcher = SafeFetcher(http_fetch_policy(deadline_s=request.timeout_s, max_bytes=max_bytes))
        try:
            response = fetcher.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                body=request.body,
                origin_headers=credentials,
            )
        except FetchRefused as exc:
            logger.warning("HTTP node request to %s not made: %s", loggable_url(request.url), exc.detail)
            kind = "output_limit" if exc.too_large else "http_timeout" if exc.timed_out else "http_refused"
            raise engine.WebError(kind, exc.message) from exc
        return engine.WebResponse(
            status=response.status,
            headers=response.headers,
            body=response.body,
            secrets=tuple(credentials.values()),
        )

    def _auth_headers(self, slug: str) -> dict[str, str]:
        # Nodes run on the engine's worker threads: a database connection opened here is this thread's,
        # and is closed again so that finished threads leave none behind.
        opened_here = connection.connection is None
        try:
            headers = http_auth_headers(owner=self.owner, slug=slug)
        finally:
            if opened_here:
                connection.close()
        if headers is None:
            raise engine.WebError("connection_missing", f"no HTTP connection named {slug!r}")
        return headers
