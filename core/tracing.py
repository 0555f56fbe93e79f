"""OpenTelemetry traces: set up once per process from the standard OTEL_* variables, off unless asked for.

Tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or
`OTEL_TRACES_EXPORTER` is set (`none` keeps it off). The SDK reads every other OTEL_* variable itself
(headers, sampler, resource attributes); `OTEL_SERVICE_NAME` defaults to `weft`. Spans leave over OTLP
HTTP/protobuf (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc` needs `opentelemetry-exporter-otlp-proto-grpc`).
Called from the ASGI and WSGI entry points, `runscheduler`, and every Dramatiq worker process
(`TraceContextMiddleware`, which also carries a run's trace context from the message to the worker).
When off, callers pay one flag check (`enabled()`): no SDK is imported and no span is made.
"""

from __future__ import annotations

import os
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from dramatiq.middleware import Middleware
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from core.logging import redact_query_string, redact_url

TRACEPARENT = "traceparent"  # the Dramatiq message option carrying a run's W3C trace context
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_DEFAULT_SERVICE_NAME = "weft"
# The request attributes that hold the URL (old and new HTTP semantic conventions alike).
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.path")

_lock = threading.Lock()
_enabled = False
_propagator = TraceContextTextMapPropagator()


def enabled() -> bool:
    return _enabled


def tracing_requested(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(environ.get(name, "").strip() for name in _ENDPOINT_VARIABLES)


def capture_content() -> bool:
    """Prompts and answers go on spans only when the operator says so: they may hold personal data."""
    return os.environ.get("OTEL_CAPTURE_CONTENT", "").strip().lower() == "true"


def tracer() -> trace.Tracer:
    return trace.get_tracer("weft")


def tracing_setup() -> bool:
    """Install the tracer provider and the Django instrumentation, once per process; True when on."""
    if _enabled or not tracing_requested():
        return _enabled
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The SDK merges OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; attributes given here win over them.
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": _DEFAULT_SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(_exporter()))
    return tracing_install(provider)


def tracing_install(provider: Any) -> bool:
    """Make `provider` the process's tracer provider and trace Django's requests (tests hand their own)."""
    global _enabled
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    with _lock:
        if not _enabled:
            trace.set_tracer_provider(provider)
            if not DjangoInstrumentor().is_instrumented_by_opentelemetry:
                DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=_redact_request_span)
            _enabled = True
    return _enabled


def tracing_uninstall() -> None:
    """Stop making spans (tests): the provider stays, as OpenTelemetry sets it once per process."""
    global _enabled
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    with _lock:
        if DjangoInstrumentor().is_instrumented_by_opentelemetry:
            DjangoInstrumentor().uninstrument()
        _enabled = False


def _redact_request_span(span: Any, request: Any) -> None:
    """A request span keeps its URL as the logs do: a webhook's token (its credential) cut to its first
    characters and query-string values redacted."""
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        if isinstance(value := attributes.get(name), str):
            span.set_attribute(name, redact_url(value))
    if isinstance(query := attributes.get("url.query"), str):
        span.set_attribute("url.query", redact_query_string(query))


def _exporter() -> Any:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    )
    if protocol.strip().lower() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter()


def current_trace_ids() -> tuple[str, str]:
    """The current span's trace id and span id in hex; two empty strings when there is none or when off."""
    if not _enabled:
        return "", ""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return "", ""
    return trace.format_trace_id(span_context.trace_id), trace.format_span_id(span_context.span_id)


def span(name: str, attributes: dict[str, str]) -> AbstractContextManager[Any]:
    """A span around work that starts runs outside any request (a schedule's firing), so that it is their
    runs' parent; nothing when off. (/mcp needs none: the MCP SDK makes a `tools/call` span of its own.)"""
    if not _enabled:
        return nullcontext()
    return tracer().start_as_current_span(name, attributes=attributes)


def traceparent(trace_id: str, parent_span_id: str) -> str:
    """A W3C traceparent header for a span of `trace_id` whose parent is `parent_span_id` (sampled)."""
    return f"00-{trace_id}-{parent_span_id}-01"


class TraceContextMiddleware(Middleware):
    """In every worker process, set tracing up; around each message, make its `traceparent` option the current
    trace context, so that the spans the actor makes belong to the trace of the request that sent it."""

    def __init__(self) -> None:
        self._tokens = threading.local()

    @property
    def actor_options(self) -> set[str]:
        return {TRACEPARENT}

    def after_process_boot(self, broker: Any) -> None:
        tracing_setup()

    def before_process_message(self, broker: Any, message: Any) -> None:
        header = message.options.get(TRACEPARENT)
        if _enabled and header:
            self._tokens.token = otel_context.attach(_propagator.extract({TRACEPARENT: header}))

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        token = getattr(self._tokens, "token", None)
        if token is not None:
            self._tokens.token = None
            otel_context.detach(token)

    after_skip_message = after_process_message
