"""`notifications/tools/list_changed` for the open MCP sessions of a user whose tools may have changed.

Sessions are held by the web process that serves them; a publication in another process (another worker)
reaches only the sessions of the process it happened in.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import Any

from mcp.server.connection import Connection

from workflows.signals import publication_changed

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# owner id -> that user's open connections, each with the event loop serving it.
_connections: dict[int, weakref.WeakKeyDictionary[Connection, asyncio.AbstractEventLoop]] = {}


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


def tools_changed(*, owner_id: int, **_: Any) -> None:
    """Tell each open session of the owner, from whatever thread the change committed in."""
    with _lock:
        targets = list(_connections.get(owner_id, {}).items())
    for connection, loop in targets:
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(_notify(connection), loop)


publication_changed.connect(tools_changed, dispatch_uid="mcp_server.notices.tools_changed")
