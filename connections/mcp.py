"""A user's MCP connections in use: the tools a server offers (cached briefly) and the client through which
MCP Tool nodes call them (engine.McpClient), each checked against MCP_ALLOWED_NETWORKS when it is used."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache

import engine
from accounts.models import User
from connections.addresses import url_refusal
from connections.models import Connection, ConnectionKind
from core.errors import DomainError
from core.mcp_client import mcp_tool_call, mcp_tools_list

TOOLS_CACHE_SECONDS = 60
LIST_TIMEOUT_SECONDS = 15


class NotAnMcpConnection(DomainError):
    code = "not_mcp"


class McpServerUnreachable(DomainError):
    """The MCP server did not answer, or refused: the connection's problem (424), not this server's."""

    http_status = 424
    code = "mcp_unreachable"


def _headers(connection: Connection) -> dict[str, str]:
    secret = connection.secret
    headers = {connection.header_name: secret} if secret and connection.header_name else {}
    return {**connection.extra_headers, **headers}


def _refusal(connection: Connection) -> str | None:
    if connection.owner_id is None:
        return None
    return url_refusal(connection.base_url, networks_setting="MCP_ALLOWED_NETWORKS")


def connection_tools(*, connection: Connection, refresh: bool = False) -> list[dict[str, Any]]:
    """The server's tools (name, description, inputSchema, annotations), from the cache for a minute unless
    `refresh`; a change of the connection (its updated_at) is a new cache entry."""
    if connection.kind != ConnectionKind.MCP:
        raise NotAnMcpConnection(f"A {connection.kind} connection has no tools.")
    key = f"mcp-tools:{connection.pk}:{connection.updated_at.timestamp()}"
    if not refresh and (cached := cache.get(key)) is not None:
        return cached
    if refusal := _refusal(connection):
        raise McpServerUnreachable(f"The URL is refused: {refusal}.")
    try:
        tools = mcp_tools_list(
            url=connection.base_url,
            headers=_headers(connection),
            timeout_s=LIST_TIMEOUT_SECONDS,
            max_bytes=settings.RUN_MAX_NODE_OUTPUT_BYTES,
        )
    except engine.McpError as error:
        raise McpServerUnreachable(error.message[:1].upper() + error.message[1:] + ".") from error
    cache.set(key, tools, TOOLS_CACHE_SECONDS)
    return tools


class ConnectionsMcpClient:
    """MCP Tool nodes of `owner`'s runs call the servers of the owner's MCP connections, by slug."""

    def __init__(self, *, owner: User) -> None:
        self.owner = owner

    def _connection(self, slug: str) -> Connection:
        connection = Connection.objects.filter(owner=self.owner, kind=ConnectionKind.MCP, slug=slug).first()
        if connection is None:
            raise engine.McpError("mcp_refused", f"you have no MCP connection named {slug!r}")
        if refusal := _refusal(connection):
            raise engine.McpError("mcp_refused", f"the connection's URL is refused: {refusal}")
        return connection

    def list_tools(self, connection: str, *, timeout_s: float) -> list[dict[str, Any]]:
        try:
            return connection_tools(connection=self._connection(connection))
        except McpServerUnreachable as error:
            raise engine.McpError("mcp_refused", str(error)) from error

    def call_tool(self, call: engine.McpToolCall) -> engine.McpToolResult:
        connection = self._connection(call.connection)
        return mcp_tool_call(
            url=connection.base_url,
            headers=_headers(connection),
            tool=call.tool,
            arguments=call.arguments,
            timeout_s=call.timeout_s,
            max_bytes=call.max_bytes or settings.RUN_MAX_NODE_OUTPUT_BYTES,
        )
