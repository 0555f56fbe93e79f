"""The provider-neutral request and response of one model call, and the errors it can raise."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.storage import ImageData

LogFn = Callable[[str, str], None]
TextFn = Callable[[str], None]
"""`on_text(delta)`: hears each piece of a model's answer as it is generated."""


class TextStream(Protocol):
    """Where a generation's text goes as it arrives. `reset` says: forget the text so far (an attempt
    failed after partial output, and a retry or the fallback provider starts over)."""

    def delta(self, text: str) -> None: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: `parameters` is a JSON Schema of its arguments (an object)."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for; `id` is the provider's (OpenAI, Groq), or one Weft gave it (Gemini)."""

    id: str
    name: str
    arguments: Any  # parsed JSON: an object when the model behaves, anything else is the tool's to refuse
    # Gemini's thought signature (base64), which it wants back with the call in later turns.
    signature: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ToolResult:
    """What a tool call gave back: `content` (any JSON) is the result, or the error's text when `is_error`."""

    call_id: str
    name: str
    content: Any
    is_error: bool = False


@dataclass(frozen=True)
class Turn:
    """One message of a tool-using conversation, provider-neutral so that the next model of a chain can take
    the conversation over in its own wire format: `user` (text), `model` (text and/or tool calls) or `tools`
    (the results of the previous turn's calls)."""

    role: str
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True)
class LLMRequest:
    """One generation. `models` is the chain of model references (`<connection slug>/<model id>`), tried
    in order; without one, `model`/`fallback_model` (None: the configured defaults) go to Gemini then Groq.

    `json_schema` asks for a JSON answer matching that JSON Schema (Gemini's response schema,
    Groq's JSON mode with the schema in the instructions); the caller still validates the answer.
    """

    prompt: str
    system: str | None = None
    models: tuple[str, ...] = ()
    # A default chain (the node names none) leaves out entries whose connection is not configured, as a
    # provider without a key is skipped; a chain the node names fails on them.
    skip_missing_connections: bool = False
    images: list[ImageData] = field(default_factory=list)
    model: str | None = None
    fallback_model: str | None = None
    temperature: float | None = None
    max_output_tokens: int | None = None
    json_schema: Mapping[str, Any] | None = None
    # A tool-using conversation (an Agent node): `conversation` replaces `prompt` as what the model reads,
    # `tools` are the functions it may call. Such a request is answered in one piece, not streamed.
    conversation: tuple[Turn, ...] = ()
    tools: tuple[ToolSpec, ...] = ()


@dataclass(frozen=True)
class LLMResponse:
    text: str
    provider: str  # the provider kind: "gemini" | "groq" | "openai"
    model: str
    attempts: int  # HTTP attempts across all providers, including failed ones
    input_tokens: int | None = None
    output_tokens: int | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    # The entry of the request's `models` that answered (a fallback answers from a later one).
    reference: str | None = None


class ProviderError(Exception):
    """Every provider failed, or none is configured.

    `kind` is "configuration" (missing key), "connection_missing" (a chain names a connection that does
    not exist), "connection_refused" (its URL is not allowed), "timeout" (the last failure was a timeout)
    or "provider_error"; `message` is short, names no secret and is safe to show the user.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        attempts: int = 0,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attempts = attempts
        self.provider = provider
        self.model = model


class LLMClient(Protocol):
    def generate(
        self, request: LLMRequest, *, log: LogFn | None = None, stream: TextStream | None = None
    ) -> LLMResponse:
        """Run one generation; `log(level, message)` hears about retries and fallbacks, `stream` gets
        the text as it is generated."""
        ...
