"""Gemini through the `google-genai` SDK (streamed), with the SDK's own retries off (the client owns them)."""

from __future__ import annotations

from google import genai
from google.genai import errors, types

from engine.providers.base import Completion, status_failure
from engine.providers.tooling import gemini_answer, gemini_contents, gemini_tools, system_text
from engine.providers.transport import TRANSPORT_ERRORS, transport_failure
from engine.providers.types import LLMRequest, TextFn

_NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


class GeminiProvider:
    name = "gemini"
    env_var = "GEMINI_API_KEY"

    def __init__(self, *, api_key: str, base_url: str | None, timeout_s: float) -> None:
        # retry_options left unset means "never retry" in google-genai; timeout is in milliseconds.
        options = types.HttpOptions(base_url=base_url, timeout=max(1, int(timeout_s * 1000)))
        self._client = genai.Client(api_key=api_key, http_options=options)

    def list_models(self) -> list[str]:
        try:
            return sorted((model.name or "").removeprefix("models/") for model in self._client.models.list())
        except errors.APIError as exc:
            raise status_failure(exc.code, f"{exc.status or ''} {exc.message or ''}".strip(), None) from exc
        except TRANSPORT_ERRORS as exc:
            raise transport_failure(exc) from exc

    def complete(self, request: LLMRequest, model: str, *, on_text: TextFn | None = None) -> Completion:
        if request.conversation:
            return self._converse(request, model)
        parts = [
            types.Part.from_bytes(data=image.data, mime_type=image.mime_type) for image in request.images
        ]
        parts.append(types.Part.from_text(text=request.prompt))
        config = types.GenerateContentConfig(
            system_instruction=request.system or None,
            temperature=request.temperature,
            max_output_tokens=request.max_output_tokens,
            response_mime_type="application/json" if request.json_schema is not None else None,
            response_json_schema=request.json_schema,
            # On by default in google-genai: it inspects every call for tools and logs at INFO each time.
            automatic_function_calling=_NO_AFC,
        )
        texts: list[str] = []
        usage = None
        try:
            chunks = self._client.models.generate_content_stream(
                model=model, contents=[types.Content(role="user", parts=parts)], config=config
            )
            for chunk in chunks:
                text = _chunk_text(chunk)
                if text:
                    texts.append(text)
                    if on_text is not None:
                        on_text(text)
                usage = chunk.usage_metadata or usage
        except errors.APIError as exc:
            headers = getattr(exc.response, "headers", None)
            raise status_failure(
                exc.code, f"{exc.status or ''} {exc.message or ''}".strip(), headers
            ) from exc
        except TRANSPORT_ERRORS as exc:
            raise transport_failure(exc) from exc
        return Completion(
            text="".join(texts),
            input_tokens=usage.prompt_token_count if usage else None,
            output_tokens=usage.candidates_token_count if usage else None,
        )

    def _converse(self, request: LLMRequest, model: str) -> Completion:
        """One turn of a tool-using conversation: function declarations in, text or function calls out."""
        config = types.GenerateContentConfig(
            system_instruction=system_text(request) or None,
            temperature=request.temperature,
            max_output_tokens=request.max_output_tokens,
            tools=gemini_tools(request),
            automatic_function_calling=_NO_AFC,
        )
        try:
            response = self._client.models.generate_content(
                model=model, contents=gemini_contents(request), config=config
            )
        except errors.APIError as exc:
            headers = getattr(exc.response, "headers", None)
            raise status_failure(
                exc.code, f"{exc.status or ''} {exc.message or ''}".strip(), headers
            ) from exc
        except TRANSPORT_ERRORS as exc:
            raise transport_failure(exc) from exc
        text, calls = gemini_answer(response)
        usage = response.usage_metadata
        return Completion(
            text=text,
            input_tokens=usage.prompt_token_count if usage else None,
            output_tokens=usage.candidates_token_count if usage else None,
            tool_calls=calls,
        )


def _chunk_text(chunk: types.GenerateContentResponse) -> str:
    """The text parts of a chunk (`chunk.text` would warn about any part that is not text)."""
    if not chunk.candidates or not chunk.candidates[0].content:
        return ""
    parts = chunk.candidates[0].content.parts or []
    return "".join(part.text for part in parts if part.text and not part.thought)
