"""A `tools/call`: start the tool's published workflow through run_start (trigger `mcp`), wait for the run
while reporting its finished nodes as progress, and answer its outputs, or its failure as a tool error."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import mcp_types as types
from django.conf import settings

import engine
from accounts.models import User
from core.errors import DomainError, errors_summary
from mcp_server.database import database_sync_to_async
from mcp_server.selectors import tool_workflow
from runs.models import RunStatus, RunTrigger, WorkflowRun
from runs.selectors import run_outputs
from runs.services import RunAlreadyFinished, run_cancel, run_start

# How often a waiting call re-reads its run. Shorter than the REST API's `wait` poll: a tool call is one
# client waiting on one run, and the interval is latency it adds to every call.
POLL_SECONDS = 0.02

ReportProgress = Callable[[float, float | None], Awaitable[None]]


def tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _arguments_problem(error: engine.InputsInvalid) -> str:
    """The engine's `inputs.<name>` issues, said of the call's arguments."""
    problems = [
        {"path": issue.path.removeprefix("inputs."), "message": issue.message} for issue in error.issues
    ]
    return f"Invalid arguments: {errors_summary(problems)}"


def _start(*, owner_id: int, name: str, arguments: Mapping[str, Any], call_ref: str) -> WorkflowRun | str:
    """The started run, or what refused it (an unknown tool, another user's alike; a limit; bad arguments)."""
    owner = User.objects.get(pk=owner_id)
    workflow = tool_workflow(owner=owner, name=name)
    if workflow is None:
        return f"Unknown tool: {name!r}."
    try:
        started = run_start(
            owner=owner,
            trigger=RunTrigger.MCP,
            trigger_ref=call_ref,
            workflow=workflow,
            inputs=arguments,
        )
    except engine.InputsInvalid as error:
        return _arguments_problem(error)
    except engine.GraphInvalid as error:
        return f"The published workflow cannot run: {error}"
    except DomainError as error:
        return error.message
    return started.run


def _progress(run: WorkflowRun) -> int:
    run.refresh_from_db(
        fields=["status", "error_summary", "succeeded_nodes", "failed_nodes", "skipped_nodes", "reused_nodes"]
    )
    return run.succeeded_nodes + run.failed_nodes + run.skipped_nodes + run.reused_nodes


def _cancel(run: WorkflowRun) -> None:
    with contextlib.suppress(RunAlreadyFinished):
        run_cancel(run=run)


def call_ref_of(*, session_id: str, request_id: object) -> str:
    """A call's trigger_ref: the MCP session and the request id within it."""
    return f"{session_id}/{request_id}"[:64]


def tool_call_cancel(*, owner_id: int, call_ref: str) -> None:
    """A client's `notifications/cancelled` that reached a process other than the one waiting on the call
    (mcp_server/sessions.py): the run is cancelled, and the waiting call answers so."""
    for run in WorkflowRun.objects.filter(owner_id=owner_id, trigger=RunTrigger.MCP, trigger_ref=call_ref):
        _cancel(run)


def _answer(run: WorkflowRun) -> types.CallToolResult:
    if run.status == RunStatus.SUCCEEDED:
        outputs = run_outputs(run=run)
        text = json.dumps(outputs, ensure_ascii=False, default=str)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)], structured_content=outputs
        )
    if run.status == RunStatus.CANCELLED:
        return tool_error("The run was cancelled.")
    return tool_error(run.error_summary or f"The run ended {run.status}.")


async def tool_call(
    *,
    owner_id: int,
    name: str,
    arguments: Mapping[str, Any],
    call_ref: str,
    report_progress: ReportProgress,
) -> types.CallToolResult:
    """Run the tool and answer as it ended; a call cancelled by its client, or cut at
    MCP_CALL_TIMEOUT_SECONDS, cancels its run."""
    started = await database_sync_to_async(_start)(
        owner_id=owner_id, name=name, arguments=arguments, call_ref=call_ref
    )
    if isinstance(started, str):
        return tool_error(started)
    run = started
    deadline = time.monotonic() + settings.MCP_CALL_TIMEOUT_SECONDS
    reported = -1
    try:
        while True:
            done = await database_sync_to_async(_progress)(run)
            if done != reported:
                reported = done
                await report_progress(done, run.total_nodes)
            if run.is_finished:
                break
            if time.monotonic() >= deadline:
                await database_sync_to_async(_cancel)(run)
                limit = settings.MCP_CALL_TIMEOUT_SECONDS
                return tool_error(f"The run did not finish within {limit:g} s and was cancelled.")
            await anyio.sleep(POLL_SECONDS)
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await database_sync_to_async(_cancel)(run)
        raise
    return await database_sync_to_async(_answer)(run)
