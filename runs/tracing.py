"""A run's trace: its `run` span (in the trace of whatever started it), a span per node, a GenAI span per
model call and a span per MCP tool call. Set up and switched on by core.tracing; every entry here costs one
flag check when tracing is off.

The engine knows no tracer: it opens the app's `NodeScope` around each node on the node's worker thread, and
calls the model and tool clients handed to it, which the app wraps here. Attribute names follow the
OpenTelemetry GenAI semantic conventions; prompts and answers go on spans only with OTEL_CAPTURE_CONTENT=true,
and nothing here reads a secret (keys stay inside the provider clients).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.message import Message
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

import engine
from core import tracing

if TYPE_CHECKING:
    from runs.models import WorkflowRun

_FAILED_STATUSES = ("failed",)


def run_message(actor: dramatiq.Actor, run_id: Any, *, trace_id: str, parent_span_id: str) -> Message:
    """The actor's message for a run, carrying the run's trace context (the span that started it) when it has
    one, whoever sends it: its creation, a release, a recovery or a decision."""
    message: Message = actor.message(str(run_id))
    if trace_id and parent_span_id:
        message.options[tracing.TRACEPARENT] = tracing.traceparent(trace_id, parent_span_id)
    return message


@contextmanager
def run_span(run: WorkflowRun) -> Iterator[Span | None]:
    """The `run` span of an execution of `run` (a top run in its message's trace context, a child run under
    its calling node); None when tracing is off. A run with no trace yet (started outside any span, or a
    child) takes this span's: a later execution of it (a recovery, a resumption) is then this one's child."""
    if not tracing.enabled():
        yield None
        return
    attributes = {"weft.run.id": str(run.id), "weft.run.trigger": run.trigger}
    if run.workflow_id:
        attributes["weft.workflow.id"] = str(run.workflow_id)
    with tracing.tracer().start_as_current_span("run", attributes=attributes) as span:
        if not run.trace_id:
            span_context = span.get_span_context()
            ids = trace.format_trace_id(span_context.trace_id), trace.format_span_id(span_context.span_id)
            type(run).objects.filter(pk=run.pk, trace_id="").update(trace_id=ids[0], trace_parent_id=ids[1])
            run.trace_id, run.trace_parent_id = ids
        yield span


def run_span_end(span: Span | None, run: WorkflowRun | None) -> None:
    """Record how the execution ended on its span (None: another worker took the run over)."""
    if span is None:
        return
    if run is None:
        span.set_attribute("weft.run.status", "lost")
        return
    span.set_attribute("weft.run.status", str(run.status))
    if run.status in _FAILED_STATUSES:
        span.set_status(Status(StatusCode.ERROR, run.error_summary))


class NodeSpans:
    """The engine's NodeScope: a span per node, a child of the run span (the node runs on another thread)."""

    def __init__(self) -> None:
        self.parent = otel_context.get_current()

    @contextmanager
    def __call__(self, node_id: str, node_type: str) -> Iterator[Span]:
        attributes = {"weft.node.id": node_id, "weft.node.kind": node_type}
        with tracing.tracer().start_as_current_span(
            f"node {node_type}", context=self.parent, attributes=attributes
        ) as span:
            yield span


class TracedLLMClient:
    """An LLMClient whose every generation is a GenAI `chat` span: its provider, models, usage and cost."""

    def __init__(
        self, client: engine.LLMClient, *, prices: engine.PriceTable | None, default_model: str
    ) -> None:
        self.client = client
        self.prices = prices
        self.default_model = default_model

    def generate(self, request: engine.LLMRequest, **kwargs: Any) -> engine.LLMResponse:
        requested = _requested_model(request) or self.default_model
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": requested}
        if request.temperature is not None:
            attributes["gen_ai.request.temperature"] = request.temperature
        if request.max_output_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = request.max_output_tokens
        with tracing.tracer().start_as_current_span(
            f"chat {requested}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            if tracing.capture_content():
                _record_prompt(span, request)
            try:
                response = self.client.generate(request, **kwargs)
            except engine.ProviderError as error:
                if error.provider:
                    span.set_attribute("gen_ai.provider.name", error.provider)
                span.set_attribute("error.type", error.kind)
                raise
            span.set_attribute("gen_ai.provider.name", response.provider)
            span.set_attribute("gen_ai.response.model", response.model)
            if response.input_tokens is not None:
                span.set_attribute("gen_ai.usage.input_tokens", response.input_tokens)
            if response.output_tokens is not None:
                span.set_attribute("gen_ai.usage.output_tokens", response.output_tokens)
            if self.prices is not None and (response.input_tokens or response.output_tokens):
                cost = self.prices.cost(
                    response.provider, response.model, response.input_tokens, response.output_tokens
                )
                if cost is not None:
                    span.set_attribute("weft.cost_usd", float(cost))
            if tracing.capture_content():
                output = [{"role": "assistant", "parts": [{"type": "text", "content": response.text}]}]
                span.set_attribute("gen_ai.output.messages", json.dumps(output))
            return response


def _requested_model(request: engine.LLMRequest) -> str:
    if request.models:
        return request.models[0].partition("/")[2] or request.models[0]
    return request.model or ""


def _record_prompt(span: Span, request: engine.LLMRequest) -> None:
    if request.system:
        span.set_attribute(
            "gen_ai.system_instructions", json.dumps([{"type": "text", "content": request.system}])
        )
    messages = [{"role": "user", "parts": [{"type": "text", "content": request.prompt}]}]
    span.set_attribute("gen_ai.input.messages", json.dumps(messages))


class TracedMcpClient:
    """An McpClient whose every tool call is a GenAI `execute_tool` span (arguments and answer only with
    OTEL_CAPTURE_CONTENT=true)."""

    def __init__(self, client: engine.McpClient) -> None:
        self.client = client

    def list_tools(self, connection: str, *, timeout_s: float) -> list[dict]:
        return self.client.list_tools(connection, timeout_s=timeout_s)

    def call_tool(self, call: engine.McpToolCall) -> engine.McpToolResult:
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": call.tool,
            "weft.mcp.connection": call.connection,
        }
        with tracing.tracer().start_as_current_span(
            f"execute_tool {call.tool}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            if tracing.capture_content():
                span.set_attribute(
                    "gen_ai.tool.call.arguments", json.dumps(dict(call.arguments), default=str)
                )
            result = self.client.call_tool(call)
            if result.is_error:
                span.set_status(Status(StatusCode.ERROR, "the tool answered an error"))
            return result
