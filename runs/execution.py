"""The seam between Django and the engine for a run: its execution context, the run guard and heartbeat.

The guard is the engine's `should_cancel` callback. The engine polls it from its coordinating thread;
it reads the run row at most every RUN_CANCEL_CHECK_SECONDS (so a cancel is noticed within a second).
The heartbeat is a thread of its own that writes `heartbeat_at` every RUN_HEARTBEAT_SECONDS (so a dead
worker is noticed by the sweeper), whatever the engine's thread is busy with: a run whose worker is alive
never looks dead. The claim's `recoveries` value fences both: once another worker has taken the run over,
this one stops and its heartbeat writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

import engine
from accounts.models import User
from connections.mcp import ConnectionsMcpClient
from connections.selectors import usable_connections
from core import tracing
from core.engine_config import code_runner, price_table, provider_config
from runs.costs import budget_for
from runs.models import RunStatus, WorkflowRun
from runs.reconnect import reconnecting
from runs.tracing import NodeSpans, TracedLLMClient, TracedMcpClient
from runs.webclient import FetchingWebClient
from uploads.reader import image_reader_for

RUN_CANCEL_CHECK_SECONDS = 0.5

logger = logging.getLogger(__name__)


def model_defaults() -> dict[str, dict[str, Any]]:
    """The deployment's default chains as data defaults (LLM_DEFAULT_MODELS, LLM_DEFAULT_VISION_MODELS): a
    node that names no model runs on these, so its content key changes with them. The client leaves out
    the entries whose connection a user does not have, as a provider without a key was before chains. An
    Agent's limits default to the AGENT_* settings the same way."""
    return {
        "llm": {"models": list(settings.LLM_DEFAULT_MODELS)},
        "vision": {"models": list(settings.LLM_DEFAULT_VISION_MODELS)},
        "agent": {
            "models": list(settings.LLM_DEFAULT_MODELS),
            "maxIterations": settings.AGENT_MAX_ITERATIONS,
            "maxToolCalls": settings.AGENT_MAX_TOOL_CALLS,
            "toolConcurrency": settings.AGENT_TOOL_CONCURRENCY,
            "maxTokens": settings.AGENT_MAX_TOKENS,
        },
    }


def execution_context(*, owner: User, run_id: uuid.UUID) -> engine.ExecutionContext:
    # Image nodes of a run read only its owner's uploads (and URLs through the SSRF-safe fetcher); model
    # chains name the owner's connections and the site's.
    images = image_reader_for(owner)
    connections = list(usable_connections(owner=owner).values())
    config = provider_config()
    context = engine.ExecutionContext(
        llm=engine.build_llm_client(config, connections=connections),
        images=images,
        defaults=model_defaults(),
        image_digests=images,
        prices=price_table(),
        budget=reconnecting(lambda: budget_for(owner=owner, run_id=run_id)),
        web=FetchingWebClient(owner=owner),
        code=code_runner(),
        mcp=ConnectionsMcpClient(owner=owner),
    )
    if tracing.enabled():
        context.node_scope = NodeSpans()
        context.llm = TracedLLMClient(context.llm, prices=context.prices, default_model=config.default_model)
        context.mcp = TracedMcpClient(context.mcp)
    return context


def planning_context(*, owner: User) -> engine.ExecutionContext:
    """What content keys need (image digests), without providers: planning calls no model."""
    return engine.ExecutionContext(image_digests=image_reader_for(owner), defaults=model_defaults())


class RunGuard:
    """`should_cancel` for one claimed run; afterwards `cancelled` or `lost` says why it said stop."""

    def __init__(self, *, run_id: str, fence: int) -> None:
        self.run_id = run_id
        self.fence = fence
        self.cancelled = False
        self.lost = False
        # Just claimed: the first look at the row can wait one interval like every later one.
        self._next_check = time.monotonic() + RUN_CANCEL_CHECK_SECONDS

    @property
    def stopped(self) -> bool:
        return self.cancelled or self.lost

    def __call__(self) -> bool:
        if self.stopped:
            return True
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + RUN_CANCEL_CHECK_SECONDS
        return reconnecting(self._check)

    def _check(self) -> bool:
        ours = WorkflowRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING, recoveries=self.fence)
        if ours.filter(cancel_requested_at__isnull=True).exists():
            return False
        # Either a cancel was requested, or the run is no longer ours (recovered elsewhere, or failed).
        if ours.exists():
            self.cancelled = True
        else:
            self.lost = True
        return True


class ChildRunGuard(RunGuard):
    """A child run's guard: it also says stop once its parent's guard does (the parent was cancelled, ended
    or was taken over), so that cancelling a run reaches the runs its Sub-workflow and Map nodes started."""

    def __init__(self, *, run_id: str, parent: Callable[[], bool]) -> None:
        super().__init__(run_id=run_id, fence=0)
        self.parent = parent

    def __call__(self) -> bool:
        if super().__call__():
            return True
        if self.parent():
            self.cancelled = True
            return True
        return False


class RunHeartbeat:
    """While entered, a thread writes the claimed run's `heartbeat_at` every RUN_HEARTBEAT_SECONDS.

    Independent of the engine: its coordinating thread may be busy for long (storing a large output) and
    must not make a live run look dead, or the sweeper would start it a second time. The thread stops at
    exit, or as soon as the run is no longer this claim's (finished, or taken over).

    Inside a transaction (the claim not committed yet) no other connection can see the run, so no thread
    is started: its UPDATE would only wait on the caller's row lock.
    """

    def __init__(self, *, run_id: str, fence: int) -> None:
        self.run_id = run_id
        self.fence = fence
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RunHeartbeat:
        if not connection.in_atomic_block:
            name = f"weft-heartbeat-{self.run_id}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.RUN_HEARTBEAT_SECONDS):
                try:
                    if not reconnecting(self._beat):
                        return
                except (OperationalError, InterfaceError):
                    logger.warning("run %s: heartbeat not written (database unavailable)", self.run_id)
        finally:
            connection.close()  # this thread's own connection

    def _beat(self) -> int:
        ours = WorkflowRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING, recoveries=self.fence)
        return ours.update(heartbeat_at=timezone.now())
