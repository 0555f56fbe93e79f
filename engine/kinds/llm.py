"""LLM and Vision: the kinds that call a model through `context.llm`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.kinds.prompt import as_text
from engine.kinds.structured import REPAIR_TOKENS, schema_problem, structured_answer
from engine.ports import Port, compact_json
from engine.providers.config import DEFAULT_FALLBACK_MODEL, DEFAULT_FALLBACK_VISION_MODEL, DEFAULT_MODEL
from engine.providers.types import LLMRequest, ProviderError
from engine.storage import ImageData

SAMPLING = {
    "temperature": {"type": "number", "title": "Temperature", "minimum": 0, "maximum": 2, "default": 0.7},
    "maxOutputTokens": {
        "type": "integer",
        "title": "Max output tokens",
        "minimum": 1,
        "maximum": 65536,
        "default": 1024,
    },
    "pin": {"type": "boolean", "title": "Reuse last result", "default": False},
}
# Gemini bills an image as 258 tokens; Groq's vision models count about the same.
_IMAGE_TOKENS = 258
# A common rule of thumb for English text: about four characters per token.
_CHARS_PER_TOKEN = 4


DEFAULT_CHAIN = (f"gemini/{DEFAULT_MODEL}", f"groq/{DEFAULT_FALLBACK_MODEL}")
DEFAULT_VISION_CHAIN = (f"gemini/{DEFAULT_MODEL}", f"groq/{DEFAULT_FALLBACK_VISION_MODEL}")
MAX_CHAIN = 8


def models_property() -> dict[str, Any]:
    """The model chain: `<connection slug>/<model id>` entries tried in order. Without a default on purpose:
    a node that names none (or an empty list) runs on the deployment's default chain, and the editor offers
    the user's models (GET /api/models) while accepting any name."""
    return {
        "models": {
            "type": "array",
            "title": "Models",
            "items": {"type": "string"},
            "widget": "models",
            "description": "Tried in order: on a retryable failure the next one runs. Empty: the default.",
        }
    }


def legacy_chain(data: Mapping[str, Any], default: Sequence[str]) -> list[str] | None:
    """The chain a graph saved before model chains meant with `model`/`fallbackModel` (Gemini, then Groq),
    or None when it names neither."""
    model, fallback = data.get("model"), data.get("fallbackModel")
    if not (isinstance(model, str) and model) and not (isinstance(fallback, str) and fallback):
        return None
    first = f"gemini/{model}" if isinstance(model, str) and model else default[0]
    second = f"groq/{fallback}" if isinstance(fallback, str) and fallback else default[-1]
    return [first, second]


def upgrade_model_fields(nodes: list[Any]) -> list[Any]:
    """`nodes` with the LLM and Vision nodes saved before model chains (`model`/`fallbackModel`) holding
    the chain those fields meant instead: how saves and imports accept graphs of older exports."""
    defaults = {"llm": DEFAULT_CHAIN, "vision": DEFAULT_VISION_CHAIN}
    upgraded = []
    for node in nodes:
        data = node.get("data") if isinstance(node, Mapping) else None
        if isinstance(data, Mapping) and node.get("type") in defaults and "models" not in data:
            chain = legacy_chain(data, defaults[node["type"]])
            if chain is not None:
                kept = {k: v for k, v in data.items() if k not in ("model", "fallbackModel")}
                node = {**node, "data": {**kept, "models": chain}}
        upgraded.append(node)
    return upgraded


def chain_problem(models: Any) -> str | None:
    """What is wrong with a chain on its face (connections are the app's to check; the data schema has
    said already when it is not a list)."""
    if not isinstance(models, list):
        return None
    if len(models) > MAX_CHAIN:
        return f"name at most {MAX_CHAIN} models"
    for entry in models:
        if not isinstance(entry, str) or "/" not in entry.strip("/") or entry != entry.strip():
            return f"{entry!r} is not a model reference: write <connection>/<model>"
    return None


class ModelKind(NodeKind):
    """Shared by LLM, Vision and Agent: the model chain, reuse at temperature 0, the token estimate."""

    uses_llm = True
    palette_group = "Models"
    summary = {
        "choose": [{"text": "{models}"}, {"text": "Default models"}],
        "append": [{"when": {"field": "jsonSchema", "notNull": True}, "text": " · JSON"}],
    }

    default_chain: Sequence[str] = DEFAULT_CHAIN

    def own_chain(self, call: NodeCall) -> list[str] | None:
        """The chain the node names: its `models`, else what its old `model`/`fallbackModel` meant."""
        return call.raw_data.get("models") or legacy_chain(call.raw_data, self.default_chain)

    def chain(self, call: NodeCall) -> tuple[str, ...]:
        """The node's own chain, else the run's default (ExecutionContext.defaults), else the built-in one."""
        return tuple(self.own_chain(call) or call.data.get("models") or self.default_chain)

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problem = chain_problem(data["models"]) if "models" in data else None
        return [("models", problem)] if problem else []

    def reusable(self, data: Mapping[str, Any]) -> bool:
        # At temperature 0 a model answers the same prompt the same way (near enough to pay once);
        # above it, only a pinned node reuses its last answer.
        return data.get("temperature") == 0 or data.get("pin") is True

    def token_estimate(self, data: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[int, int]:
        texts = [
            as_text(v) for name, v in inputs.items() if name not in ("image", "images") and v is not None
        ]
        texts += [v for name, v in data.items() if name in ("prompt", "systemPrompt") and isinstance(v, str)]
        images = inputs.get("images", []) if isinstance(inputs.get("images"), list) else []
        image_count = len(images) + (1 if inputs.get("image") is not None else 0)
        prompt_tokens = -(-sum(len(t) for t in texts) // _CHARS_PER_TOKEN) + image_count * _IMAGE_TOKENS
        return prompt_tokens, int(data.get("maxOutputTokens") or 0)

    def call_model(
        self,
        call: NodeCall,
        *,
        prompt: str,
        system: str | None,
        images: list[ImageData],
        json_schema: Mapping[str, Any] | None = None,
    ) -> NodeOutput:
        if call.context.llm is None:
            raise NodeError("configuration", "no LLM client is configured for this run")
        request = LLMRequest(
            prompt=prompt,
            system=system or None,
            images=images,
            models=self.chain(call),
            # Only a chain the node names fails on a connection that is not there: a default one, or one
            # read from the old model/fallbackModel, leaves it out as a provider without a key was.
            skip_missing_connections=not call.raw_data.get("models"),
            temperature=call.data["temperature"],
            max_output_tokens=call.data["maxOutputTokens"],
            json_schema=json_schema,
        )
        try:
            response = call.context.llm.generate(request, log=call.log, stream=call.stream)
        except ProviderError as exc:
            raise ModelCallFailed(exc) from exc
        return NodeOutput(
            {"text": response.text},
            provider=response.provider,
            model=response.model,
            attempts=response.attempts,
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
        )


class ModelCallFailed(NodeError):
    """A provider failure, carrying the bookkeeping the node result should still record."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.kind, error.message)
        self.provider = error.provider
        self.model = error.model
        self.attempts = error.attempts


def read_images(call: NodeCall, refs: Sequence[Any]) -> list[ImageData]:
    images: list[ImageData] = []
    for ref in refs:
        if isinstance(ref, ImageData):
            images.append(ref)
            continue
        if not isinstance(ref, Mapping):
            raise NodeError("invalid_input", f"expected an image reference, got {type(ref).__name__}")
        if call.context.images is None:
            raise NodeError("configuration", "no image reader is configured for this run")
        try:
            images.append(call.context.images.read(ref))
        except Exception as exc:  # the reader is app code; report, don't crash the run
            raise NodeError("invalid_input", f"could not read image: {exc}") from exc
    return images


@register
class LLMKind(ModelKind):
    type = "llm"
    label = "LLM"
    description = "Asks a language model (its chain of models, in order) and outputs its answer."
    inputs = (
        Port("prompt", "text", required=True),
        Port("system", "text"),
        Port("images", "image", multiple=True),
    )
    palette_order = 50
    icon = "✦"
    # `json` exists only with a `jsonSchema`: the parsed answer, valid against it.
    outputs = (Port("text", "text"), Port("json", "json", when={"field": "jsonSchema", "notNull": True}))
    data_schema = {
        "type": "object",
        "properties": {
            **models_property(),
            "systemPrompt": {"type": "string", "title": "System prompt", "default": "", "multiline": True},
            **SAMPLING,
            "jsonSchema": {
                "type": ["object", "null"],
                "title": "JSON Schema",
                "default": None,
                "description": "Ask for JSON matching this schema; adds the json output.",
            },
        },
    }

    def token_estimate(self, data: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[int, int]:
        prompt_tokens, output_tokens = super().token_estimate(data, inputs)
        schema = data.get("jsonSchema")
        if schema is None:
            return prompt_tokens, output_tokens
        # Groq reads the schema in its instructions; a bad first answer is asked again with that
        # answer and the validation error: two calls at most, and caps must hold for both.
        first = prompt_tokens + -(-len(compact_json(schema)) // _CHARS_PER_TOKEN)
        return 2 * first + output_tokens + REPAIR_TOKENS, 2 * output_tokens

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        schema = data.get("jsonSchema")  # the data schema has checked its type already
        problem = schema_problem(schema) if isinstance(schema, Mapping) else None
        return super().check(data, connected) + ([("jsonSchema", problem)] if problem else [])

    def run(self, call: NodeCall) -> NodeOutput:
        # An edge into `system` wins over the typed system prompt.
        system_input = call.inputs.get("system")
        system = as_text(system_input) if system_input is not None else call.data["systemPrompt"]
        images = read_images(call, call.inputs.get("images", []))
        schema = call.data["jsonSchema"]
        prompt = as_text(call.inputs["prompt"])
        if schema is None:
            return self.call_model(call, prompt=prompt, system=system, images=images)
        return structured_answer(
            call,
            schema,
            prompt,
            lambda text: self.call_model(call, prompt=text, system=system, images=images, json_schema=schema),
        )


@register
class VisionKind(ModelKind):
    type = "vision"
    label = "Vision"
    description = "Asks a multimodal model about an image."
    palette_order = 60
    icon = "◉"
    inputs = (Port("image", "image", required=True), Port("prompt", "text"))
    outputs = (Port("text", "text"),)
    data_schema = {
        "type": "object",
        "properties": {
            **models_property(),
            "prompt": {
                "type": "string",
                "title": "Prompt",
                "default": "Describe this image.",
                "multiline": True,
            },
            **SAMPLING,
        },
    }

    default_chain = DEFAULT_VISION_CHAIN

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problems = super().check(data, connected)
        prompt = data.get("prompt", "Describe this image.")
        if "prompt" not in connected and isinstance(prompt, str) and not prompt.strip():
            problems.append(("prompt", "write a prompt or connect one to the prompt input"))
        return problems

    def run(self, call: NodeCall) -> NodeOutput:
        prompt = call.inputs.get("prompt")
        return self.call_model(
            call,
            prompt=as_text(prompt) if prompt is not None else call.data["prompt"],
            system=None,
            images=read_images(call, [call.inputs["image"]]),
        )
