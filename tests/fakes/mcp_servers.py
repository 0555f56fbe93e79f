"""An MCP server written with the official SDK (`MCPServer`), on loopback in a thread, over Streamable HTTP or
the legacy HTTP+SSE transport: what Weft's MCP client and MCP Tool nodes call as an external server. Its
`hang` tool waits until the server stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field
from starlette.types import ASGIApp

from tests.waiting import wait_for

HUGE_BYTES = 100 * 1024 * 1024


def outside_server() -> MCPServer:
    server = MCPServer("outside")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True), structured_output=True)
    def forecast(
        city: Annotated[str, Field(description="The city's English name.")], days: int = 1
    ) -> dict[str, str | int]:
        """The weather for a few days."""
        return {"city": city, "days": days, "sky": "clear"}

    @server.tool()
    def broken(city: str) -> str:
        """Always fails."""
        raise ValueError(f"no such city: {city}")

    @server.tool()
    async def hang() -> str:
        """Answers after an hour."""
        await anyio.sleep(3600)
        return "late"

    @server.tool()
    def huge() -> str:
        """Answers 100 MB of text."""
        return "x" * HUGE_BYTES

    return server


@contextmanager
def _served(app: ASGIApp, path: str) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)


@contextmanager
def outside_mcp_url() -> Iterator[str]:
    """The Streamable HTTP URL of a running `outside_server`."""
    with _served(outside_server().streamable_http_app(), "/mcp") as url:
        yield url


@contextmanager
def outside_sse_url() -> Iterator[str]:
    """The SSE URL of a running `outside_server` served with the legacy HTTP+SSE transport only."""
    with _served(outside_server().sse_app(), "/sse") as url:
        yield url
