"""A fake LLM server speaking Gemini's `generateContent`, Groq's and OpenAI's chat-completions wire formats.

Point the real SDKs at `server.url` (GEMINI_BASE_URL / GROQ_BASE_URL, an OpenAI-compatible connection at
`server.openai_url`) to test without the internet; `GET /v1/models` lists `server.models`. It answers
deterministically ("echo: <last user text>"), can be slowed down (`latency_s`), scripted to fail
(`fail_next`), and records every request it receives. Streaming requests (Gemini's
`streamGenerateContent?alt=sse`, Groq's and OpenAI's `stream: true`) are answered as
server-sent events, one word per chunk (`chunk_delay_s` apart); `fail_next(..., status="cut")` sends
half of the chunks and then drops the connection, and `chunks_sent` says when each chunk left.

A request that offers tools (an Agent's turn) follows directives in its first user message:
`[[call NAME {json args}]]` (each one a call of the first turn, several at once in parallel; once the results
are back, the answer is `answer: <the results as JSON>`), `[[always NAME {json args}]]` (every turn calls it:
a model that never stops) and `[[fail PROVIDER TURN STATUS]]` (that provider answers the conversation's
TURN-th model call with STATUS, e.g. a Gemini failure mid-conversation).

    with FakeLLMServer() as server:
        server.fail_next("gemini", status=429, times=2, retry_after=0)
        server.fail_next("groq", status="hang")   # sleeps until reset() or hang_s
        ...
        assert [r.provider for r in server.requests] == [...]
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.llm_tool_calls import (
    model_turn,
    scripted_failure,
    tool_call_answer,
    tool_calls_for,
    tool_results,
)

GEMINI_PATH = re.compile(
    r"^/(v1|v1beta)/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
GROQ_PATH = "/openai/v1/chat/completions"
OPENAI_PATH = "/v1/chat/completions"
OPENAI_MODELS_PATH = "/v1/models"
PROVIDERS = ("gemini", "groq", "openai")


@dataclass(frozen=True)
class RecordedRequest:
    provider: str  # "gemini" | "groq" | "openai"
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON
    model: str | None
    at: float  # time.monotonic() on arrival


@dataclass(frozen=True)
class ScriptedFailure:
    status: int | str  # an HTTP status, "hang", or "cut" (a stream that stops half-way)
    retry_after: float | None = None


@dataclass(frozen=True)
class SentChunk:
    provider: str
    text: str
    at: float  # time.monotonic() once the chunk was written


DEFAULT_MODELS = ("fake-chat", "fake-vision")


def split_words(text: str) -> list[str]:
    """The chunks of a streamed answer: each word with the whitespace before it."""
    return re.findall(r"\s*\S+", text) or [text]


def prompt_text(provider: str, body: Any) -> str:
    """The text of the last user message of a request body, in either wire format."""
    try:
        if provider == "gemini":
            parts = body["contents"][-1]["parts"]
            return " ".join(p["text"] for p in parts if "text" in p)
        content = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
        if isinstance(content, str):
            return content
        return " ".join(c["text"] for c in content if c.get("type") == "text")
    except (KeyError, IndexError, TypeError):
        return ""


def echo_reply(provider: str, body: Any) -> str:
    if isinstance(body, dict) and body.get("tools") and model_turn(provider, body) > 1:
        return "answer: " + json.dumps(tool_results(provider, body), separators=(",", ":"))
    return f"echo: {prompt_text(provider, body)}"


class FakeLLMServer:
    """Threaded HTTP server on 127.0.0.1 (a free port). Thread-safe; use as a context manager."""

    def __init__(self, *, latency_s: float = 0.0, hang_s: float = 30.0) -> None:
        self.latency_s = latency_s  # added to every answer
        self.hang_s = hang_s  # how long a "hang" failure sleeps unless reset() releases it
        self.chunk_delay_s = 0.0  # between the chunks of a streamed answer
        # Replaces the echo answer: called with (provider, parsed body), returns the reply text.
        self.reply: Callable[[str, Any], str] = echo_reply
        # What GET /v1/models lists (the OpenAI-compatible models endpoint).
        self.models: list[str] = list(DEFAULT_MODELS)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._chunks: list[SentChunk] = []
        self._hanging = 0
        self._failures: dict[str, deque[ScriptedFailure]] = {p: deque() for p in PROVIDERS}
        self._release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_url(self) -> str:
        """The base URL of the OpenAI-compatible API (what an `openai` connection's baseUrl names)."""
        return f"{self.url}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chunks_sent(self) -> list[SentChunk]:
        with self._lock:
            return list(self._chunks)

    @property
    def hanging(self) -> int:
        """Requests a "hang" failure holds right now, unanswered (counted as they are recorded)."""
        with self._lock:
            return self._hanging

    def requests_for(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    def fail_next(
        self, provider: str, *, status: int | str = 500, times: int = 1, retry_after: float | None = None
    ) -> None:
        """Make the next `times` requests to `provider` fail with `status` (or hang)."""
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}")
        with self._lock:
            self._failures[provider].extend([ScriptedFailure(status, retry_after)] * times)

    def reset(self) -> None:
        """Forget requests and scripted failures, restore defaults, and end any hanging request."""
        with self._lock:
            self._requests.clear()
            self._chunks.clear()
            for queue in self._failures.values():
                queue.clear()
        self.latency_s = 0.0
        self.chunk_delay_s = 0.0
        self.reply = echo_reply
        self.models = list(DEFAULT_MODELS)
        self._release.set()
        self._release = threading.Event()

    def start(self) -> FakeLLMServer:
        # A short poll interval keeps shutdown (and so every test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Called from handler threads -------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> ScriptedFailure | None:
        with self._lock:
            self._requests.append(request)
            queue = self._failures[request.provider]
            failure = queue.popleft() if queue else None
            if failure is not None and failure.status == "hang":
                self._hanging += 1
            return failure

    def _hang_ended(self) -> None:
        with self._lock:
            self._hanging -= 1

    def _sent(self, provider: str, text: str) -> None:
        with self._lock:
            self._chunks.append(SentChunk(provider, text, time.monotonic()))

    def _stream_chunks(self, provider: str, model: str | None, body: Any) -> list[tuple[str, dict[str, Any]]]:
        """(text, event payload) per chunk of a streamed answer; the last carries the usage."""
        text = self.reply(provider, body)
        words = split_words(text)
        usage = _usage(prompt_text(provider, body), text)
        chunks = []
        for i, word in enumerate(words):
            last = i == len(words) - 1
            if provider == "gemini":
                candidate: dict[str, Any] = {
                    "content": {"role": "model", "parts": [{"text": word}]},
                    "index": 0,
                }
                payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
                if last:
                    candidate["finishReason"] = "STOP"
                    payload["usageMetadata"] = {
                        "promptTokenCount": usage[0],
                        "candidatesTokenCount": usage[1],
                        "totalTokenCount": sum(usage),
                    }
            else:
                payload = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {"index": 0, "delta": {"content": word}, "finish_reason": "stop" if last else None}
                    ],
                }
                if last and provider == "groq":
                    payload["x_groq"] = {
                        "id": "req-fake",
                        "usage": {
                            "prompt_tokens": usage[0],
                            "completion_tokens": usage[1],
                            "total_tokens": sum(usage),
                        },
                    }
            chunks.append((word, payload))
        options = body.get("stream_options") if isinstance(body, dict) else None
        if provider == "openai" and isinstance(options, dict) and options.get("include_usage"):
            # OpenAI's usage chunk: after the last text, with no choices.
            usage_payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": {
                    "prompt_tokens": usage[0],
                    "completion_tokens": usage[1],
                    "total_tokens": sum(usage),
                },
            }
            chunks.append(("", usage_payload))
        return chunks

    def _answer(self, provider: str, model: str | None, body: Any) -> dict[str, Any]:
        calls = tool_calls_for(provider, body)
        if calls is not None:
            return tool_call_answer(provider, model, calls, model_turn(provider, body))
        text = self.reply(provider, body)
        prompt_tokens, output_tokens = _usage(prompt_text(provider, body), text)
        if provider == "gemini":
            return {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt_tokens,
                    "candidatesTokenCount": output_tokens,
                    "totalTokenCount": prompt_tokens + output_tokens,
                },
                "modelVersion": model,
            }
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": prompt_tokens + output_tokens,
            },
        }


def _usage(prompt: str, text: str) -> tuple[int, int]:
    return len(prompt.split()), len(text.split())


def _error_body(provider: str, status: int) -> dict[str, Any]:
    if provider == "gemini":
        name = {429: "RESOURCE_EXHAUSTED", 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED"}.get(
            status, "INTERNAL"
        )
        return {"error": {"code": status, "message": f"fake {status}", "status": name}}
    return {"error": {"message": f"fake {status}", "type": "fake_error", "code": str(status)}}


def _handler_for(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            gemini = GEMINI_PATH.match(path)
            streaming = False
            if gemini:
                provider, model = "gemini", gemini.group("model")
                streaming = gemini.group("method") == "streamGenerateContent"
            elif path == GROQ_PATH:
                provider, model = "groq", None
            elif path == OPENAI_PATH:
                provider, model = "openai", None
            else:
                self._send(404, {"error": {"message": f"no route {path}"}})
                return
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except json.JSONDecodeError:
                self._send(400, _error_body(provider, 400))
                return
            if provider != "gemini" and isinstance(body, dict):
                model = body.get("model")
                streaming = bool(body.get("stream"))
            headers = {k.lower(): v for k, v in self.headers.items()}
            failure = server._record(RecordedRequest(provider, path, headers, body, model, time.monotonic()))
            if failure is None and (status := scripted_failure(provider, body)) is not None:
                failure = ScriptedFailure(status)
            release = server._release
            if server.latency_s:
                release.wait(server.latency_s)
            if failure is not None and failure.status == "hang":
                release.wait(server.hang_s)
                server._hang_ended()
                self.close_connection = True
                return
            cut = failure is not None and failure.status == "cut"
            if streaming and (failure is None or cut):
                self._stream(provider, model, body, cut=cut)
                return
            if cut:  # a plain request cut short: no answer at all
                self.close_connection = True
                return
            if failure is not None:
                extra = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
                self._send(int(failure.status), _error_body(provider, int(failure.status)), extra)
                return
            self._send(200, server._answer(provider, model, body))

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path != OPENAI_MODELS_PATH:
                self._send(404, {"error": {"message": f"no route {path}"}})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            failure = server._record(RecordedRequest("openai", path, headers, None, None, time.monotonic()))
            if failure is not None and isinstance(failure.status, int):
                extra = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
                self._send(failure.status, _error_body("openai", failure.status), extra)
                return
            listed = [
                {"id": name, "object": "model", "created": 0, "owned_by": "fake"} for name in server.models
            ]
            self._send(200, {"object": "list", "data": listed})

        def _stream(self, provider: str, model: str | None, body: Any, *, cut: bool) -> None:
            """Server-sent events in HTTP chunks, flushed one by one; `cut` drops the connection half-way."""
            chunks = server._stream_chunks(provider, model, body)
            if cut:
                chunks = chunks[: max(1, len(chunks) // 2)]
                self.close_connection = (
                    True  # a whole answer ends with its last chunk and keeps the connection
                )
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i, (text, payload) in enumerate(chunks):
                    if i and server.chunk_delay_s:
                        time.sleep(server.chunk_delay_s)
                    self._chunk(f"data: {json.dumps(payload)}\r\n\r\n".encode())
                    if text:
                        server._sent(provider, text)
                if cut:
                    return  # no terminating chunk: the client sees an incomplete body
                if provider != "gemini":
                    self._chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout); nothing to tell it

    return Handler
