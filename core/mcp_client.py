"""Calls to MCP servers with the official client: list a server's tools, call one, each within a deadline and
with a cap on the bytes of any answer (SSE events and JSON bodies alike).

Streamable HTTP first; a server that answers its initialize POST with a 4xx is taken for a legacy HTTP+SSE
server and asked again over that transport at the same URL (the spec's backwards-compatibility rule), where
the cap holds for the session's one event stream as a whole.

Where a server may be reached (the SSRF policy) and with which credentials is the caller's business (the
connection); errors come out as engine.McpError, whose message names no header or secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

import engine

T = TypeVar("T")


class _AnswerTooLarge(httpx2.StreamError):
    pass


class _CappedTransport(httpx2.AsyncHTTPTransport):
    """No response body may pass `cap` bytes; `capped` remembers that one tried (the SDK swallows the error
    of a stream it was reading and reports the stream as ended). `first_status` is the status of the first
    answer (the initialize POST's): the SDK reports a refusal without it."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.capped = False
        self.first_status: int | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        if self.first_status is None:
            self.first_status = response.status_code
        response.stream = _CappedStream(response.stream, transport=self)
        return response


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, *, transport: _CappedTransport) -> None:
        self.stream = stream
        self.transport = transport

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.stream:
            seen += len(chunk)
            if seen > self.transport.cap:
                self.transport.capped = True
                raise _AnswerTooLarge(f"the answer is over {self.transport.cap} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


@asynccontextmanager
async def _streamable_session(
    url: str, headers: Mapping[str, str], transport: _CappedTransport, timeout_s: float
) -> AsyncIterator[ClientSession]:
    # Each read may take the whole deadline (a large answer is slow to come; httpx's default is 5 s): the
    # deadline itself is the caller's anyio.fail_after.
    http_timeout = httpx2.Timeout(timeout_s)
    async with (
        httpx2.AsyncClient(headers=dict(headers), transport=transport, timeout=http_timeout) as http,
        # The transport's cap bounds every body, events included, before the SDK reads them: an SDK limit
        # as small would sometimes cut first and report only "stream ended", hiding why.
        streamable_http_client(url, http_client=http, max_sse_event_size=None) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def _sse_session(
    url: str, headers: Mapping[str, str], transport: _CappedTransport, timeout_s: float
) -> AsyncIterator[ClientSession]:
    def client(**options: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(**options, transport=transport)

    async with (
        sse_client(
            url, headers=dict(headers), sse_read_timeout=timeout_s, httpx_client_factory=client
        ) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        yield session


async def _worked(
    work: Callable[[ClientSession], Awaitable[T]],
    *,
    url: str,
    headers: Mapping[str, str],
    timeout_s: float,
    used: list[_CappedTransport],
) -> T:
    """`work` on a Streamable HTTP session, or on a legacy HTTP+SSE one when the server refuses the first
    with a 4xx; `used` gets each transport tried (the last one's cap and status explain a failure)."""
    cap = used[0].cap
    opened = False
    try:
        async with _streamable_session(url, headers, used[0], timeout_s) as session:
            opened = True
            return await work(session)
    except Exception:
        status = used[0].first_status
        if opened or status is None or not 400 <= status < 500:
            raise
    used.append(_CappedTransport(cap))
    async with _sse_session(url, headers, used[-1], timeout_s) as session:
        return await work(session)


def mcp_tools_list(
    *, url: str, headers: Mapping[str, str], timeout_s: float, max_bytes: int
) -> list[dict[str, Any]]:
    """The server's tools: name, description, inputSchema and annotations (as the server gives them)."""

    async def listed(session: ClientSession) -> list[dict[str, Any]]:
        tools = (await session.list_tools()).tools
        return [
            {
                "name": tool.name,
                "description": tool.description or "",
                "inputSchema": tool.input_schema,
                "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True)
                if tool.annotations
                else {},
            }
            for tool in tools
        ]

    return _run(listed, url=url, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes)


def mcp_tool_call(
    *,
    url: str,
    headers: Mapping[str, str],
    tool: str,
    arguments: Mapping[str, Any],
    timeout_s: float,
    max_bytes: int,
) -> engine.McpToolResult:
    """Call `tool`; a tool's own failure is a result with `is_error`, not an McpError."""

    async def called(session: ClientSession) -> engine.McpToolResult:
        result = await session.call_tool(tool, dict(arguments))
        text = "\n".join(item.text for item in result.content if getattr(item, "type", None) == "text")
        return engine.McpToolResult(result.structured_content, text, bool(result.is_error))

    return _run(called, url=url, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes)


def _run(
    work: Callable[[ClientSession], Awaitable[T]],
    *,
    url: str,
    headers: Mapping[str, str],
    timeout_s: float,
    max_bytes: int,
) -> T:
    """`work` on a new session, in an event loop of this (worker or request) thread."""
    used = [_CappedTransport(max_bytes)]

    async def bounded() -> T:
        with anyio.fail_after(timeout_s):
            return await _worked(work, url=url, headers=headers, timeout_s=timeout_s, used=used)

    try:
        return anyio.run(bounded)
    except Exception as error:
        raise _mcp_error(error, transport=used[-1], timeout_s=timeout_s) from None


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _mcp_error(error: Exception, *, transport: _CappedTransport, timeout_s: float) -> engine.McpError:
    leaves = _leaves(error)
    if transport.capped or any(isinstance(leaf, _AnswerTooLarge) for leaf in leaves):
        return engine.McpError("output_limit", f"the MCP server's answer is over {transport.cap} bytes")
    if any(isinstance(leaf, TimeoutError) for leaf in leaves):
        return engine.McpError("mcp_timeout", f"the MCP server did not answer within {timeout_s:g} s")
    for leaf in leaves:
        if isinstance(leaf, httpx2.HTTPStatusError):
            return engine.McpError("mcp_refused", f"the MCP server answered HTTP {leaf.response.status_code}")
        if isinstance(leaf, MCPError):
            return engine.McpError("mcp_refused", f"the MCP server refused: {leaf}")
        if isinstance(leaf, httpx2.TransportError | OSError):
            return engine.McpError("mcp_refused", "the MCP server could not be reached")
    return engine.McpError("mcp_refused", f"the MCP exchange failed ({type(leaves[0]).__name__})")
