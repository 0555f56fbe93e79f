"""The interface through which MCP Tool nodes call tools on MCP servers: an `McpClient` that a Django app
implements (connections, their secrets, the SSRF policy), so that the engine never opens a socket itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class McpToolCall:
    """One call as a node built it: `connection` is the slug of the owner's MCP connection; `timeout_s` bounds
    the whole exchange, `max_bytes` the answer."""

    connection: str
    tool: str
    arguments: Mapping[str, Any]
    timeout_s: float = 60.0
    max_bytes: int | None = None


@dataclass(frozen=True)
class McpToolResult:
    """The tool's answer: `structured` its structuredContent (None without), `text` its text content joined,
    `is_error` the tool's own failure flag."""

    structured: Any
    text: str
    is_error: bool = False


class McpError(Exception):
    """A call that could not be made or answered. `kind`: `mcp_refused` (no such connection, a URL that is not
    allowed, a server that cannot be reached or broke the protocol), `mcp_timeout`, `output_limit`; `message`
    is for the user and holds no secret."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class McpClient(Protocol):
    def call_tool(self, call: McpToolCall) -> McpToolResult:
        """Make `call`, or raise McpError."""
        ...

    def list_tools(self, connection: str, *, timeout_s: float) -> list[dict[str, Any]]:
        """The tools of a connection's server (`name`, `description`, `inputSchema`, `annotations`), for an
        Agent's MCP tools; raise McpError."""
        ...
