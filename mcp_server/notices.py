"""`notifications/tools/list_changed` for the open MCP sessions of a user whose tools may have changed.

A session lives in the web process that opened it, and the change may commit in any process (another web
worker, a management command). With REDIS_URL the change is published on a Redis channel every web process
listens to (`tools_changes_listened`, in the /mcp application's lifespan); without it (one process, `make
run`) it is delivered in the process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

import redis
import redis.asyncio
from django.conf import settings
from mcp.server.connection import Connection

from workflows.signals import publication_changed

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# owner id -> that user's open connections, each with the event loop serving it.
_connections: dict[int, weakref.WeakKeyDictionary[Connection, asyncio.AbstractEventLoop]] = {}
# owner id -> the queues of the notice streams served for that user's sessions held by other processes.
_streams: dict[int, dict[asyncio.Queue[None], asyncio.AbstractEventLoop]] = {}


def _channel() -> str:
    """Under the cache's key prefix: deployments that share a Redis tell only their own sessions."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:mcp:tools-changed"


def connection_register(*, owner_id: int, connection: Connection) -> None:
    """Remember the connection until it closes (registering it again changes nothing)."""
    if connection.state.get("weft_owner_id") == owner_id:
        return
    connection.state["weft_owner_id"] = owner_id
    with _lock:
        _connections.setdefault(owner_id, weakref.WeakKeyDictionary())[connection] = (
            asyncio.get_running_loop()
        )
    connection.exit_stack.callback(_forget, owner_id, connection)


def _forget(owner_id: int, connection: Connection) -> None:
    with _lock:
        _connections.get(owner_id, {}).pop(connection, None)


async def _notify(connection: Connection) -> None:
    try:
        await connection.send_tool_list_changed()
    except Exception:  # a session closing as we send: nothing to tell it any more
        logger.debug("tools/list_changed not sent to a closing MCP session", exc_info=True)


def _deliver(owner_id: int) -> None:
    """Tell each open session of the owner in this process, and each notice stream this process serves for
    a session another process holds (mcp_server/sessions.py), from any thread."""
    with _lock:
        targets = list(_connections.get(owner_id, {}).items())
        streams = list(_streams.get(owner_id, {}).items())
    for connection, loop in targets:
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(_notify(connection), loop)
    for queue, loop in streams:
        if not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, None)


@contextlib.contextmanager
def tools_changes_queued(owner_id: int) -> Iterator[asyncio.Queue[None]]:
    """A queue that gets an item each time the owner's tools may have changed, while the block runs."""
    queue: asyncio.Queue[None] = asyncio.Queue()
    with _lock:
        _streams.setdefault(owner_id, {})[queue] = asyncio.get_running_loop()
    try:
        yield queue
    finally:
        with _lock:
            _streams.get(owner_id, {}).pop(queue, None)


def tools_changed(*, owner_id: int, **_: Any) -> None:
    if not settings.REDIS_URL:
        _deliver(owner_id)
        return
    try:
        redis.Redis.from_url(settings.REDIS_URL).publish(_channel(), str(owner_id))
    except redis.RedisError:  # the change is committed; sessions see it at their next tools/list
        logger.warning("tools/list_changed not published: Redis is unreachable", exc_info=True)


async def _listen(client: redis.asyncio.Redis) -> None:
    async with client.pubsub() as pubsub:
        await pubsub.subscribe(_channel())
        async for message in pubsub.listen():
            if message["type"] == "message":
                _deliver(int(message["data"]))


@contextlib.asynccontextmanager
async def tools_changes_listened() -> AsyncIterator[None]:
    """While the server runs, hand the changes published by every process to this process's sessions."""
    if not settings.REDIS_URL:
        yield
        return
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    listener = asyncio.create_task(_listen(client))
    try:
        yield
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await client.aclose()


publication_changed.connect(tools_changed, dispatch_uid="mcp_server.notices.tools_changed")
