"""Helpers of the Agent tests: a one-node graph, its run on the real SDKs against the fake LLM server, and
fake tools' outside world (a web that records when each request ran)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from engine import ExecutionContext, MemorySink, NodeResult, RunOptions, build_llm_client, execute_graph
from engine.web import WebRequest, WebResponse
from tests.engine.helpers import config_for
from tests.fakes.llm_server import FakeLLMServer


def agent_graph(prompt: str, tools: list[dict[str, Any]], **data: Any) -> dict[str, Any]:
    node = {"id": "agent", "type": "agent", "data": {"prompt": prompt, "tools": tools, **data}}
    return {"nodes": [node], "edges": []}


def http_tool(name: str = "look", url: str = "http://weather.test/{{city}}") -> dict[str, Any]:
    return {"name": name, "description": "The weather in a city", "type": "http", "url": url}


def run_agent(
    server: FakeLLMServer,
    graph: dict[str, Any],
    *,
    sink: MemorySink | None = None,
    options: RunOptions | None = None,
    should_cancel: Any = lambda: False,
    **context: Any,
) -> NodeResult:
    llm = build_llm_client(config_for(server, max_attempts=1))
    outcome = execute_graph(
        graph,
        context=ExecutionContext(llm=llm, **context),
        sink=sink or MemorySink(),
        options=options or RunOptions(),
        should_cancel=should_cancel,
    )
    return outcome.results["agent"]


@dataclass
class RecordingWeb:
    """A WebClient answering JSON after `delay_s`, with `status_for` a path's status; `spans` records when
    each request started and ended (to see parallel calls overlap), `release` ends a `hold` early."""

    delay_s: float = 0.0
    hold: bool = False
    status_for: dict[str, int] = field(default_factory=dict)
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, request: WebRequest) -> WebResponse:
        begun = time.monotonic()
        with self.lock:
            self.started.append(request.url)
        if self.hold:
            self.release.wait(30)
        elif self.delay_s:
            time.sleep(self.delay_s)  # the fake's own latency, not a test waiting
        path = request.url.split("/", 3)[-1]
        with self.lock:
            self.spans.append((request.url, begun, time.monotonic()))
        body = json.dumps({"city": path, "sky": "clear"}).encode()
        return WebResponse(self.status_for.get(path, 200), {"content-type": "application/json"}, body)
