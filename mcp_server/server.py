"""The MCP server Weft serves at /mcp: `tools/list` and `tools/call` over the token owner's tools."""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions

from accounts.models import User
from mcp_server.calls import call_ref_of, tool_call
from mcp_server.database import database_sync_to_async
from mcp_server.notices import connection_register
from mcp_server.selectors import ListedTool, tools_listed

SERVER_NAME = "weft"


def _owner_id(ctx: ServerRequestContext[Any, Any]) -> int:
    """The API token's owner, as the transport's authentication put it on the HTTP request (see asgi.py);
    the connection is remembered for list-changed notices."""
    owner_id = int(ctx.request.scope["user"].access_token.client_id)
    # The SDK hands request handlers the connection only through their session.
    connection_register(owner_id=owner_id, connection=ctx.session._connection)
    return owner_id


def _tool(tool: ListedTool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        description=tool.description or None,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        annotations=types.ToolAnnotations(read_only_hint=False, idempotent_hint=tool.pure),
    )


def _listed(owner_id: int) -> list[ListedTool]:
    return tools_listed(owner=User.objects.get(pk=owner_id))


async def _list_tools(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    tools = await database_sync_to_async(_listed)(_owner_id(ctx))
    return types.ListToolsResult(tools=[_tool(tool) for tool in tools])


async def _call_tool(
    ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
) -> types.CallToolResult:
    session_id = ctx.request.headers.get("mcp-session-id", "")
    call_ref = call_ref_of(session_id=session_id, request_id=ctx.request_id)
    return await tool_call(
        owner_id=_owner_id(ctx),
        name=params.name,
        arguments=params.arguments or {},
        call_ref=call_ref,
        report_progress=lambda done, total: ctx.session.report_progress(done, total),
    )


class WeftServer(Server[Any]):
    def create_initialization_options(self, *args: Any, **kwargs: Any) -> InitializationOptions:
        """Tools change as their owner publishes: say that this server sends `tools/list_changed`."""
        if not args and "notification_options" not in kwargs:
            kwargs["notification_options"] = NotificationOptions(tools_changed=True)
        return super().create_initialization_options(*args, **kwargs)


def mcp_server_build() -> WeftServer:
    return WeftServer(SERVER_NAME, on_list_tools=_list_tools, on_call_tool=_call_tool)
