"""Traces over the wire: a real web process (gunicorn with uvicorn workers) and a real Dramatiq worker process
send OTLP/HTTP protobuf to a receiver in this test, and the request, the run, its nodes and its model call
arrive in one trace from the two processes."""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from django.db import connection
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from accounts.services import api_token_create
from runs.models import RunStatus, WorkflowRun
from tests.graphs import text_llm_chain
from tests.runs.processes import child_env, fake_llm_env, free_port, kill_group, start, wait_http
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    pid: int  # the sending process (its resource's process.pid)
    service: str
    attributes: dict[str, object]


class OtlpReceiver:
    """An OTLP/HTTP traces endpoint (POST /v1/traces, protobuf) that keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.content_types: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.receive(request, self.path, self.headers.get("Content-Type", ""))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, request: ExportTraceServiceRequest, path: str, content_type: str) -> None:
        assert path == "/v1/traces"
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            pid=int(resource["process.pid"]),
                            service=str(resource["service.name"]),
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        with self._lock:
            self.spans.extend(spans)
            self.content_types.add(content_type)

    def named(self, prefix: str) -> list[ReceivedSpan]:
        with self._lock:
            return [span for span in self.spans if span.name.startswith(prefix)]


def _value(value: object) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    running = OtlpReceiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def namespace() -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("server and worker processes need a shared database: set DATABASE_URL to PostgreSQL")
    name = f"weft-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    if keys := list(client.scan_iter(f"{name}*")):
        client.delete(*keys)


def test_a_web_and_a_worker_process_send_one_run_in_one_trace_over_otlp_http(
    namespace, receiver, alice, fake_llm, tmp_path: Path
):
    token = api_token_create(owner=alice, name="traces").secret
    env = child_env(
        namespace,
        **fake_llm_env(fake_llm.url),
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # export within a tenth of a second, not the default five
        OTEL_EXPERIMENTAL_RESOURCE_DETECTORS="otel,process",  # each span says which process sent it
    )
    env.pop("OTEL_SERVICE_NAME", None)
    env.pop("OTEL_CAPTURE_CONTENT", None)
    port = free_port()
    web_args = ["-m", "gunicorn", "workflowsite.asgi:application", "-k", "uvicorn_worker.UvicornWorker"]
    web = start([*web_args, "--bind", f"127.0.0.1:{port}", "--workers", "1"], env, tmp_path / "web.log")
    worker = start(
        ["manage.py", "rundramatiq", "--processes", "1", "--threads", "1"], env, tmp_path / "worker.log"
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health", timeout=30)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/execute",
            data=json.dumps(text_llm_chain(2, text="otters")).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            run_id = json.loads(response.read())["runId"]
        run = WorkflowRun.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED)
        wait_for(run.exists, timeout=60, interval=0.1)
        exported = ("POST", "run", "node ", "chat ")
        wait_for(lambda: all(receiver.named(prefix) for prefix in exported), timeout=20, interval=0.1)
    finally:
        kill_group(worker, signal.SIGTERM)
        kill_group(web, signal.SIGTERM)

    logs = (tmp_path / "web.log").read_text()[-2000:] + (tmp_path / "worker.log").read_text()[-2000:]
    [post] = [span for span in receiver.named("POST") if span.attributes.get("http.route") == "api/execute"]
    [run_span] = receiver.named("run")
    nodes = receiver.named("node ")
    [chat] = receiver.named("chat ")
    assert receiver.content_types == {"application/x-protobuf"}
    assert {span.trace_id for span in [post, run_span, *nodes, chat]} == {post.trace_id}, logs
    assert run_span.pid != post.pid  # from the worker process, not the web one
    assert {post.service, run_span.service} == {"weft"}
    assert run_span.parent_span_id == post.span_id
    assert run_span.attributes["weft.run.id"] == run_id
    assert sorted(span.name for span in nodes) == ["node llm", "node text"]
    assert {span.parent_span_id for span in nodes} == {run_span.span_id}
    assert chat.attributes["gen_ai.provider.name"] == "gemini"
    assert chat.attributes["gen_ai.usage.output_tokens"] > 0
    assert "gen_ai.input.messages" not in chat.attributes
    assert WorkflowRun.objects.get(pk=run_id).trace_id == post.trace_id
