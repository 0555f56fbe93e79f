"""The ASGI application of /mcp (Streamable HTTP, with `Authorization: Bearer <API token>`), and the router
that serves it next to Django's."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from accounts.services import api_token_authenticate
from mcp_server.database import database_sync_to_async
from mcp_server.notices import tools_changes_listened
from mcp_server.server import mcp_server_build
from mcp_server.sessions import SpreadSessions

MCP_PATH = "/mcp"


class ApiTokenVerifier:
    """A Weft API token is the MCP access token; its principal is the token's owner (a session stays bound
    to the user who opened it)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        found = await database_sync_to_async(api_token_authenticate)(secret=token)
        if found is None:
            return None
        return AccessToken(token=token, client_id=str(found.owner_id), scopes=[])


def mcp_application() -> Starlette:
    """/mcp alone; its lifespan runs the session managers (stateful, and stateless for sessions another
    process holds: sessions.py) and the list-changed listener (the router hands it the server's lifespan)."""
    server = mcp_server_build()
    stateful = StreamableHTTPSessionManager(app=server)
    stateless = StreamableHTTPSessionManager(app=server, stateless=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with stateful.run(), stateless.run(), tools_changes_listened():
            yield

    endpoint = RequireAuthMiddleware(
        SpreadSessions(stateful=stateful, stateless=stateless), required_scopes=[]
    )
    return Starlette(
        routes=[Route(MCP_PATH, endpoint=endpoint)],
        middleware=[
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(ApiTokenVerifier())),
            Middleware(AuthContextMiddleware),
        ],
        lifespan=lifespan,
    )


class McpRouter:
    """/mcp to the MCP application, everything else to Django; the lifespan to the MCP application (Django
    has none)."""

    def __init__(self, *, django: ASGIApp, mcp: ASGIApp) -> None:
        self.django = django
        self.mcp = mcp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or scope.get("path", "").rstrip("/") == MCP_PATH:
            await self.mcp(scope, receive, send)
        else:
            await self.django(scope, receive, send)
