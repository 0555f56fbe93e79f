"""MCP sessions across web processes. The SDK's session manager keeps a session in the memory of the process
that opened it; with several web workers a client's next request may land in another one. There the request
is served without the session, as the SDK's stateless mode serves every request:

- a POST (`tools/list`, `tools/call` with its progress on the POST's own stream) by a stateless server,
  except a `notifications/cancelled`, which cancels the run of the call it names (whichever process waits
  on that call then answers it as cancelled);
- the GET stream a client opens for server notices by a stream that sends `notifications/tools/list_changed`
  whenever the owner's tools may have changed (the notices reach every process through Redis, notices.py);
- a DELETE by forgetting the session (the process holding it ends it at its idle timeout).

Only sessions some process of this deployment opened, for the same user, and not idle past the SDK's idle
timeout are served so (a registry in the cache, Redis in production); any other session id gets the SDK's
own 404 "Session not found", and the client opens a new session.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from django.core.cache import cache
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mcp_server.calls import call_ref_of, tool_call_cancel
from mcp_server.database import database_sync_to_async
from mcp_server.notices import tools_changes_queued

LIST_CHANGED = json.dumps({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
PING_SECONDS = 15


def _key(session_id: str) -> str:
    return f"mcp-session:{session_id}"


def _session_id(scope: Scope) -> str | None:
    wanted = MCP_SESSION_ID_HEADER.encode("latin-1")
    return next((value.decode("latin-1") for name, value in scope["headers"] if name == wanted), None)


class SpreadSessions:
    """The /mcp endpoint: the session's own process serves it statefully, any other process as above."""

    def __init__(
        self, *, stateful: StreamableHTTPSessionManager, stateless: StreamableHTTPSessionManager
    ) -> None:
        self.stateful = stateful
        self.stateless = stateless
        self.lifetime = stateful.session_idle_timeout

    def held_here(self, session_id: str) -> bool:
        # The SDK keeps no public list of its sessions.
        return session_id in self.stateful._server_instances

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner_id = int(scope["user"].access_token.client_id)
        session_id = _session_id(scope)
        if session_id is None:
            await self.stateful.handle_request(scope, receive, self._registering(send, owner_id))
        elif self.held_here(session_id):
            if scope["method"] != "DELETE":
                await cache.atouch(_key(session_id), self.lifetime)
            elif await cache.aget(_key(session_id)) == owner_id:
                # Forgotten before the SDK ends the session and answers: the client may use the answer as
                # a sign that the session is gone everywhere.
                await cache.adelete(_key(session_id))
            await self.stateful.handle_request(scope, receive, send)
        elif await cache.aget(_key(session_id)) == owner_id:
            await self._elsewhere(scope, receive, send, session_id=session_id, owner_id=owner_id)
        else:  # the SDK's own 404 "Session not found"
            await self.stateful.handle_request(scope, receive, send)

    def _registering(self, send: Send, owner_id: int) -> Send:
        """`send`, registering the session that an answer opens under its owner."""

        async def registering(message: Message) -> None:
            if message["type"] == "http.response.start":
                opened = dict(message.get("headers", [])).get(MCP_SESSION_ID_HEADER.encode("latin-1"))
                if opened:
                    await cache.aset(_key(opened.decode("latin-1")), owner_id, self.lifetime)
            await send(message)

        return registering

    async def _elsewhere(
        self, scope: Scope, receive: Receive, send: Send, *, session_id: str, owner_id: int
    ) -> None:
        await cache.atouch(_key(session_id), self.lifetime)
        if scope["method"] == "POST":
            body, replay = await _buffered(receive, limit=self.stateless.max_request_body_size)
            request_id = _cancelled_request(body)
            if request_id is None:
                await self.stateless.handle_request(scope, replay, send)
                return
            call_ref = call_ref_of(session_id=session_id, request_id=request_id)
            await database_sync_to_async(tool_call_cancel)(owner_id=owner_id, call_ref=call_ref)
            await Response(status_code=202)(scope, receive, send)
        elif scope["method"] == "GET":
            response = EventSourceResponse(
                _notices(owner_id), headers={MCP_SESSION_ID_HEADER: session_id}, ping=PING_SECONDS
            )
            await response(scope, receive, send)
        elif scope["method"] == "DELETE":
            await cache.adelete(_key(session_id))
            await Response(status_code=200)(scope, receive, send)
        else:
            await Response(status_code=405, headers={"Allow": "GET, POST, DELETE"})(scope, receive, send)


async def _notices(owner_id: int) -> AsyncIterator[ServerSentEvent]:
    with tools_changes_queued(owner_id) as changes:
        while True:
            await changes.get()
            yield ServerSentEvent(data=LIST_CHANGED, event="message")


async def _buffered(receive: Receive, *, limit: int) -> tuple[bytes, Receive]:
    """The request's body (up to about `limit` bytes), and a `receive` that hands the request on whole."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more and size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more}

    return body, replay


def _cancelled_request(body: bytes) -> object | None:
    """The request id a `notifications/cancelled` names, else None."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "notifications/cancelled":
        return None
    params = message.get("params")
    return params.get("requestId") if isinstance(params, dict) else None
