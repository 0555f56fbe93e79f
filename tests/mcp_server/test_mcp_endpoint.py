"""Weft's /mcp driven by the official MCP client (streamable_http_client + ClientSession) against a live
ASGI server: authentication, the tools a token's owner sees, calls with progress, failures, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio
import httpx2
import mcp_types as types
import pytest
from django.db import connection

from mcp_server.services import workflow_tool_set
from runs.models import RunStatus, RunTrigger, WorkflowRun
from tests.factories import WorkflowFactory
from tests.graphs import callable_graph, llm_callee
from tests.mcp_server.helpers import live_asgi_site, mcp_session
from tests.waiting import wait_for
from workflows.models import Workflow
from workflows.services import workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(worker) -> Iterator[str]:
    with live_asgi_site() as base_url:
        yield f"{base_url}/mcp"


def _tool(owner, graph, *, name: str, publish: bool = True, enabled: bool = True) -> Workflow:
    workflow = WorkflowFactory(owner=owner, name=name, nodes=graph["nodes"], edges=graph["edges"])
    if publish:
        workflow_publish(workflow=workflow)
    workflow_tool_set(workflow=workflow, enabled=enabled, name=name, description=f"The {name} tool.")
    return workflow


def test_the_owner_lists_enabled_published_workflows_with_schemas_from_their_interface(
    site, alice, alice_token
):
    _tool(alice, callable_graph(), name="write_about")
    _tool(alice, llm_callee(), name="ask_model")
    _tool(alice, callable_graph(), name="unpublished", publish=False)
    _tool(alice, callable_graph(), name="switched_off", enabled=False)

    async def listed() -> types.ListToolsResult:
        async with mcp_session(site, alice_token) as session:
            return await session.list_tools()

    tools = asyncio.run(listed()).tools

    assert [tool.name for tool in tools] == ["ask_model", "write_about"]
    tool = tools[1]
    assert tool.description == "The write_about tool."
    assert tool.input_schema == {
        "type": "object",
        "properties": {
            "topic": {"type": "string", "description": "What to write about"},
            "style": {"type": "string", "default": "plain"},
            "photo": {"type": "string", "description": "An upload id or an http(s) URL of the image."},
        },
        "required": ["topic"],
        "additionalProperties": False,
    }
    assert tool.output_schema == {"type": "object", "properties": {"answer": {}, "style": {}, "photo": {}}}
    assert tool.annotations.read_only_hint is False
    assert tool.annotations.idempotent_hint is True  # a Prompt computes a pure function of its inputs
    assert tools[0].annotations.idempotent_hint is False  # a model at its default temperature does not


def test_a_call_runs_the_published_version_reports_progress_and_answers_the_outputs(site, alice, alice_token):
    workflow = _tool(alice, callable_graph(), name="write_about")
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async def called() -> types.CallToolResult:
        async with mcp_session(site, alice_token) as session:
            return await session.call_tool("write_about", {"topic": "otters"}, progress_callback=on_progress)

    result = asyncio.run(called())

    assert result.is_error is False
    assert result.structured_content == {"answer": "Write about otters", "style": "plain", "photo": None}
    assert '"answer": "Write about otters"' in result.content[0].text
    run = WorkflowRun.objects.get(workflow=workflow)
    assert (run.trigger, run.status, run.workflow_version) == (RunTrigger.MCP, RunStatus.SUCCEEDED, 1)
    assert progress[-1] == (7, 7)


def test_a_failed_run_is_a_tool_error_naming_the_failing_node(site, alice, alice_token, llm_settings):
    _tool(alice, llm_callee(), name="ask_model")
    llm_settings.fail_next("gemini", status=400)

    async def called() -> types.CallToolResult:
        async with mcp_session(site, alice_token) as session:
            return await session.call_tool("ask_model", {"item": "hi"})

    result = asyncio.run(called())

    assert result.is_error is True
    assert result.content[0].text.startswith("LLM llm failed: gemini rejected the request")
    assert WorkflowRun.objects.get().status == RunStatus.FAILED


def test_bad_arguments_are_a_tool_error_naming_the_argument_and_start_no_run(site, alice, alice_token):
    _tool(alice, callable_graph(), name="write_about")

    async def called() -> list[types.CallToolResult]:
        async with mcp_session(site, alice_token) as session:
            return [
                await session.call_tool("write_about", {}),
                await session.call_tool("write_about", {"topic": "otters", "colour": "red"}),
                await session.call_tool("write_about", {"topic": ["not", "text"]}),
            ]

    missing, unknown, wrong_type = asyncio.run(called())

    assert all(result.is_error for result in (missing, unknown, wrong_type))
    assert missing.content[0].text.startswith("Invalid arguments: topic: ")
    assert unknown.content[0].text.startswith("Invalid arguments: colour: ")
    assert wrong_type.content[0].text.startswith("Invalid arguments: topic: ")
    assert not WorkflowRun.objects.exists()


def test_a_call_the_client_cancels_cancels_its_run(site, alice, alice_token, llm_settings):
    _tool(alice, llm_callee(), name="ask_model")
    llm_settings.fail_next("gemini", status="hang")

    async def call_then_cancel() -> None:
        async with mcp_session(site, alice_token) as session, anyio.create_task_group() as group:
            group.start_soon(session.call_tool, "ask_model", {"item": "hi"})
            await anyio.to_thread.run_sync(lambda: wait_for(lambda: llm_settings.hanging == 1))
            group.cancel_scope.cancel()

    asyncio.run(call_then_cancel())

    run = WorkflowRun.objects.get()
    wait_for(lambda: run.refresh_from_db() or run.status == RunStatus.CANCELLED)
    assert run.trigger == RunTrigger.MCP


def test_another_users_tool_is_neither_listed_nor_callable(site, alice, bob, alice_token):
    _tool(bob, callable_graph(), name="write_about")

    async def listed_and_called() -> tuple[types.ListToolsResult, types.CallToolResult]:
        async with mcp_session(site, alice_token) as session:
            return await session.list_tools(), await session.call_tool("write_about", {"topic": "otters"})

    tools, called = asyncio.run(listed_and_called())

    assert tools.tools == []
    assert called.is_error is True
    assert called.content[0].text == "Unknown tool: 'write_about'."
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize("authorization", [None, "Bearer weft_not-a-token", "Basic YWxpY2U6cHc="])
def test_no_or_a_bad_token_is_a_401_with_a_bearer_challenge(site, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    headers["Accept"] = "application/json, text/event-stream"

    response = httpx2.post(site, json=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_publishing_and_switching_tools_tells_open_sessions_the_list_changed(site, alice, alice_token):
    workflow = _tool(alice, callable_graph(), name="write_about", publish=False)
    changes = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changes.set()

    def publish() -> None:  # in a thread of its own, as another request would
        try:
            workflow_publish(workflow=workflow)
        finally:
            connection.close()

    async def listen() -> list[str]:
        async with mcp_session(site, alice_token, message_handler=on_message) as session:
            assert (await session.list_tools()).tools == []
            await anyio.to_thread.run_sync(publish)
            with anyio.fail_after(10):
                await changes.wait()
            return [tool.name for tool in (await session.list_tools()).tools]

    assert asyncio.run(listen()) == ["write_about"]
