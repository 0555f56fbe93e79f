"""The interface through which HTTP Request nodes reach the web: a `WebClient` that a Django app implements
(its SSRF policy), so that the engine never opens a socket itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class WebRequest:
    """One request as a node built it: `timeout_s` bounds the whole exchange (redirects included),
    `max_bytes` the response body (None: the client's own limit). `auth` names a connection whose header
    the client adds when it sends the request, so that the secret is never part of the request."""

    method: str
    url: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes | None = None
    timeout_s: float = 30.0
    max_bytes: int | None = None
    auth: str | None = None


@dataclass(frozen=True)
class WebResponse:
    """The final answer after redirects: `headers` by lowercase name. `secrets` are the credential values the
    client sent, which the node removes from everything it outputs (a server may echo them)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    secrets: tuple[str, ...] = field(default=(), repr=False)


class WebError(Exception):
    """A request that could not be made or answered. `kind` classifies it for the node result:
    `http_refused` (the URL is not allowed, or could not be reached), `http_timeout`,
    `output_limit` (the response is too large), `connection_missing` (the owner has no connection named
    `auth`); `message` is for the user and holds no secret."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class WebClient(Protocol):
    def send(self, request: WebRequest) -> WebResponse:
        """Make `request`, or raise WebError."""
        ...
