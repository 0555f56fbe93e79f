"""OpenTelemetry traces of runs, collected by the SDK's in-memory exporter: one trace from the API request
that starts a run through its worker's `run` span, its node spans and the GenAI spans of its model calls (the
real SDKs against the fake LLM server); content only when asked for; nothing at all when tracing is off."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import mcp_types as types
import pytest
from django.utils import timezone
from dramatiq.brokers.stub import StubBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core import tracing
from mcp_server.services import workflow_tool_set
from runs.models import WorkflowRun
from runs.services import run_create
from runs.tracing import TracedMcpClient
from tests.brokers import drain
from tests.graphs import callable_graph, edge, graph, node, text_llm_chain
from tests.mcp_server.helpers import live_asgi_site, mcp_session
from triggers.models import Schedule
from triggers.services import schedule_create, schedules_fire_due, webhook_create
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)

# OpenTelemetry takes one tracer provider per process: every test of the session shares this one.
_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))


@pytest.fixture
def spans(broker: StubBroker, monkeypatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on (requests, and the worker's messages on the test's broker), content capture off."""
    monkeypatch.delenv("OTEL_CAPTURE_CONTENT", raising=False)
    broker.add_middleware(tracing.TraceContextMiddleware())
    tracing.tracing_install(_PROVIDER)
    _EXPORTER.clear()
    yield _EXPORTER
    tracing.tracing_uninstall()
    _EXPORTER.clear()


def hex_trace(span: ReadableSpan) -> str:
    return trace.format_trace_id(span.context.trace_id)


def named(finished: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return sorted((s for s in finished if s.name.startswith(prefix)), key=lambda s: s.start_time)


def test_one_trace_runs_from_the_api_request_through_the_run_its_nodes_and_its_model_calls(
    alice_client, spans, worker, broker, llm_settings
):
    response = alice_client.post("/api/execute", text_llm_chain(3), format="json")
    drain(broker, worker)

    assert response.status_code == 202
    finished = list(spans.get_finished_spans())
    [request] = [s for s in finished if s.kind == trace.SpanKind.SERVER]
    [run] = named(finished, "run")
    nodes = named(finished, "node ")
    chats = named(finished, "chat ")
    assert {hex_trace(s) for s in finished} == {hex_trace(request)}
    assert run.parent.span_id == request.context.span_id
    assert run.attributes["weft.run.id"] == response.json()["runId"]
    assert run.attributes["weft.run.status"] == "succeeded"
    assert [(s.name, s.parent.span_id) for s in nodes] == [
        ("node text", run.context.span_id),
        ("node llm", run.context.span_id),
        ("node llm", run.context.span_id),
    ]
    assert [s.parent.span_id for s in chats] == [nodes[1].context.span_id, nodes[2].context.span_id]
    attributes = dict(chats[0].attributes)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "gemini"
    assert attributes["gen_ai.request.model"] == attributes["gen_ai.response.model"] == "gemini-2.5-flash"
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] > 0
    assert attributes["weft.cost_usd"] > 0
    # No prompt or answer without OTEL_CAPTURE_CONTENT, and never the provider's key.
    assert not any(name.endswith(("messages", "instructions")) for name in attributes)
    assert not any("fake-key" in str(value) for s in finished for value in s.attributes.values())
    detail = alice_client.get(f"/api/runs/{response.json()['runId']}").json()
    assert detail["traceId"] == hex_trace(request)


def test_prompts_and_answers_are_recorded_only_with_otel_capture_content(
    alice_client, spans, worker, broker, llm_settings, monkeypatch
):
    monkeypatch.setenv("OTEL_CAPTURE_CONTENT", "true")

    alice_client.post("/api/execute", text_llm_chain(2, text="otters"), format="json")
    drain(broker, worker)

    [chat] = named(list(spans.get_finished_spans()), "chat ")
    assert "otters" in chat.attributes["gen_ai.input.messages"]
    assert "echo: otters" in chat.attributes["gen_ai.output.messages"]


def test_a_failed_model_call_marks_its_span_its_node_and_its_run_as_errors(
    alice, spans, worker, broker, llm_settings
):
    llm_settings.fail_next("gemini", status=500)
    run = run_create(owner=alice, graph=text_llm_chain(2))
    drain(broker, worker)

    finished = list(spans.get_finished_spans())
    [chat], [node_span], [run_span] = (
        named(finished, "chat "),
        named(finished, "node llm"),
        named(finished, "run"),
    )
    assert chat.status.status_code == trace.StatusCode.ERROR
    assert chat.attributes["error.type"] == "provider_error"
    assert node_span.status.status_code == trace.StatusCode.ERROR
    assert run_span.status.status_code == trace.StatusCode.ERROR
    # Started outside any span, the run is the root of its own trace, which it writes down.
    run.refresh_from_db()
    assert run.trace_id == hex_trace(run_span)


def test_a_held_run_released_by_a_worker_stays_in_the_trace_of_the_request_that_started_it(
    alice_client, spans, worker, broker, llm_settings, settings
):
    settings.RUN_MAX_RUNNING_PER_USER = 1
    llm_settings.latency_s = 0.5  # the first still runs when the second is created: the second is held
    first = alice_client.post("/api/execute", text_llm_chain(2, text="first"), format="json").json()
    second = alice_client.post("/api/execute", text_llm_chain(2, text="second"), format="json").json()
    drain(broker, worker)  # the worker runs the first, then sends the second's message (admission)

    finished = list(spans.get_finished_spans())
    requests = sorted((s for s in finished if s.kind == trace.SpanKind.SERVER), key=lambda s: s.start_time)
    runs = {s.attributes["weft.run.id"]: s for s in named(finished, "run")}
    assert len(requests) == 2
    held = WorkflowRun.objects.get(pk=second["runId"])
    assert held.admitted_at > held.created_at  # admitted by the worker's release, not by its request
    for request, started in zip(requests, (first, second), strict=True):
        assert runs[started["runId"]].parent.span_id == request.context.span_id
        assert hex_trace(runs[started["runId"]]) == hex_trace(request)


def test_a_child_run_is_traced_under_its_calling_node(alice, spans, worker, broker, llm_settings):
    callee = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    caller = graph(
        [node("topic", "text", text="otters"), node("sub", "subworkflow", workflowId=str(callee.pk))],
        [edge("topic", "sub", "text", "topic")],
    )
    parent = run_create(owner=alice, graph=caller)
    drain(broker, worker)

    finished = list(spans.get_finished_spans())
    [calling] = named(finished, "node subworkflow")
    [top] = [s for s in named(finished, "run") if s.attributes["weft.run.id"] == str(parent.id)]
    [child] = [s for s in named(finished, "run") if s is not top]
    assert calling.parent.span_id == top.context.span_id
    assert child.parent.span_id == calling.context.span_id
    assert WorkflowRun.objects.get(parent_run=parent).trace_id == hex_trace(top)


def test_an_agents_workflow_tool_runs_as_a_child_traced_under_the_agent(
    alice, spans, worker, broker, llm_settings
):
    callee = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    tool = {"name": "write", "description": "Writes", "type": "workflow", "workflowId": str(callee.pk)}
    agent = node("agent", "agent", prompt='[[call write {"topic": "otters"}]]', tools=[tool])
    parent = run_create(owner=alice, graph=graph([agent], []))
    drain(broker, worker)

    parent.refresh_from_db()
    assert parent.status == "succeeded", parent.error_summary
    finished = list(spans.get_finished_spans())
    [calling] = named(finished, "node agent")
    [child] = [s for s in named(finished, "run") if s.attributes["weft.run.id"] != str(parent.id)]
    assert child.parent.span_id == calling.context.span_id
    assert len(named(finished, "chat")) == 2  # the call that asks for the tool, the one that answers


def test_a_maps_item_runs_are_traced_under_the_map_node(alice, spans, worker, broker, llm_settings):
    callee = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    caller = graph(
        [node("items", "text", text="otters\nbadgers"), node("map", "map", workflowId=str(callee.pk))],
        [edge("items", "map", "text", "items")],
    )
    parent = run_create(owner=alice, graph=caller)
    drain(broker, worker)

    finished = list(spans.get_finished_spans())
    [calling] = named(finished, "node map")
    children = [s for s in named(finished, "run") if s.attributes["weft.run.id"] != str(parent.id)]
    assert len(children) == 2
    assert {child.parent.span_id for child in children} == {calling.context.span_id}


def test_a_traced_mcp_client_lists_tools_through_the_client_it_wraps():
    class Listing:
        def list_tools(self, connection: str, *, timeout_s: float) -> list[dict]:
            return [{"name": "echo", "connection": connection, "timeout": timeout_s}]

    listed = TracedMcpClient(Listing()).list_tools("docs", timeout_s=3.0)

    assert listed == [{"name": "echo", "connection": "docs", "timeout": 3.0}]


def test_a_schedule_firing_is_the_parent_of_its_run(alice, spans, worker, broker):
    writer = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    schedule = schedule_create(owner=alice, workflow=writer, cron="0 9 * * *", inputs={"topic": "x"})
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
    [firing] = schedules_fire_due()
    drain(broker, worker)

    finished = list(spans.get_finished_spans())
    [fire], [run] = named(finished, "schedule fire"), named(finished, "run")
    assert fire.attributes["weft.schedule.id"] == str(schedule.pk)
    assert run.parent.span_id == fire.context.span_id
    assert WorkflowRun.objects.get(pk=firing.run_id).trace_id == hex_trace(fire)


def test_a_webhook_call_is_the_parent_of_its_run_and_its_span_keeps_no_token(
    alice, anon_client, spans, worker, broker
):
    writer = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    hook = webhook_create(owner=alice, workflow=writer, signed=False)

    response = anon_client.post(f"/hooks/{hook.token}?secret=x", {"topic": "otters"}, format="json")
    drain(broker, worker)

    assert response.status_code == 202
    finished = list(spans.get_finished_spans())
    [call] = [s for s in finished if s.kind == trace.SpanKind.SERVER]
    [run] = named(finished, "run")
    assert call.name == "POST hooks/<text:token>"
    assert run.parent.span_id == call.context.span_id
    assert not any(hook.token in str(value) or "secret=x" in str(value) for value in call.attributes.values())
    assert any(f"/hooks/{hook.token[:4]}…" in str(value) for value in call.attributes.values())


def test_an_mcp_tool_call_is_the_parent_of_its_run(alice, alice_token, spans, worker):
    writer = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    workflow_tool_set(workflow=writer, enabled=True, name="write_about", description="Writes.")

    async def called() -> types.CallToolResult:
        async with mcp_session(f"{base_url}/mcp", alice_token) as session:
            return await session.call_tool("write_about", {"topic": "otters"})

    with live_asgi_site() as base_url:
        result = asyncio.run(called())

    assert result.is_error is False
    finished = list(spans.get_finished_spans())
    # The MCP SDK's own span of the call (/mcp is served beside Django, so no request span is made).
    [call], [run] = named(finished, "tools/call write_about"), named(finished, "run")
    assert (call.kind, call.instrumentation_scope.name) == (trace.SpanKind.SERVER, "mcp-python-sdk")
    assert run.parent.span_id == call.context.span_id
    assert WorkflowRun.objects.get(workflow=writer).trace_id == hex_trace(call)


def test_with_tracing_off_a_run_has_no_trace_and_makes_no_span(
    alice, alice_client, worker, broker, llm_settings
):
    _EXPORTER.clear()
    response = alice_client.post("/api/execute", text_llm_chain(2), format="json")
    drain(broker, worker)

    assert alice_client.get(f"/api/runs/{response.json()['runId']}").json()["traceId"] is None
    assert _EXPORTER.get_finished_spans() == ()
