"""Structured output for the LLM kind: ask for JSON matching a schema, validate, repair once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema
import regex
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.validators import validator_for

from engine.kinds.base import NodeCall, NodeError, NodeOutput

_ERROR_CHARS = 300
# Tokens of the repair prompt's own words and its (shortened) validation error, at most.
REPAIR_TOKENS = 150
# A schema's `pattern` that backtracks catastrophically on an answer is stopped after this long.
PATTERN_TIME_LIMIT_S = 1.0


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not a JSON Schema an answer can be checked against, or None."""
    try:
        validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        return f"is not a valid JSON Schema: {_short(exc.message)}"
    if _uses_pattern_properties(schema):
        # jsonschema matches property names with `re`, which cannot be time-limited.
        return "patternProperties is not supported: list the properties, or use pattern on values"
    return None


# Keywords whose values are maps from names to subschemas, and keywords holding plain data.
_SCHEMA_MAPS = {"properties", "$defs", "definitions", "dependentSchemas"}
_DATA = {"enum", "const", "examples", "default"}


def _uses_pattern_properties(schema: Any) -> bool:
    if isinstance(schema, list):
        return any(_uses_pattern_properties(item) for item in schema)
    if not isinstance(schema, Mapping):
        return False
    if "patternProperties" in schema:
        return True
    for key, value in schema.items():
        if key in _DATA:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            if any(_uses_pattern_properties(sub) for sub in value.values()):
                return True
        elif _uses_pattern_properties(value):
            return True
    return False


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """jsonschema's `pattern`, run by the `regex` module with a time limit."""
    if not validator.is_type(instance, "string"):
        return
    try:
        found = regex.search(pattern, instance, timeout=PATTERN_TIME_LIMIT_S)
    except TimeoutError as exc:
        raise NodeError(
            "timeout", f"the JSON Schema's pattern {pattern!r} ran past {PATTERN_TIME_LIMIT_S:g} s"
        ) from exc
    if found is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _validator(schema: Mapping[str, Any]) -> Any:
    base = validator_for(schema, default=jsonschema.Draft202012Validator)
    return jsonschema.validators.extend(base, {"pattern": _pattern})(schema)


def answer_problem(text: str, schema: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The answer parsed as JSON, and why it is not valid against `schema` (None if it is)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"the answer is not JSON ({exc.msg} at character {exc.pos})"
    error = best_match(_validator(schema).iter_errors(value))
    if error is None:
        return value, None
    return value, _short(f"at {error.json_path}: {error.message}")


def repair_prompt(prompt: str, answer: str, problem: str) -> str:
    return (
        f"{prompt}\n\nYour previous answer was:\n{answer}\n\nIt does not match the required JSON "
        f"Schema: {problem}. Answer again with only JSON that matches the schema."
    )


class StructuredOutputInvalid(NodeError):
    """Both answers broke the schema; keeps the bookkeeping of the calls that were made."""

    def __init__(self, message: str, spent: NodeOutput) -> None:
        super().__init__("invalid_output", message)
        self.provider = spent.provider
        self.model = spent.model
        self.attempts = spent.attempts
        self.input_tokens = spent.input_tokens
        self.output_tokens = spent.output_tokens


def structured_answer(
    call: NodeCall,
    schema: Mapping[str, Any],
    prompt: str,
    ask: Callable[[str], NodeOutput],
) -> NodeOutput:
    """`ask(prompt)` a model for JSON; on a bad answer, ask once more with the validation error.

    The output has the answer's `text` and its parsed `json`; usage adds up both calls.
    """
    first = ask(prompt)
    value, problem = answer_problem(first.values["text"], schema)
    if problem is None:
        return NodeOutput({**first.values, "json": value}, *_usage(first))
    call.log("warning", f"the answer does not match the JSON Schema ({problem}); asking once more")
    if call.stream is not None:
        call.stream.reset()  # the streamed first answer is not the output: clients discard it
    second = ask(repair_prompt(prompt, first.values["text"], problem))
    spent = NodeOutput(second.values, *_usage(first, second))
    value, again = answer_problem(second.values["text"], schema)
    if again is not None:
        raise StructuredOutputInvalid(
            f"the answer did not match the JSON Schema twice; last problem {again}", spent
        )
    return NodeOutput({**second.values, "json": value}, *_usage(spent))


def _usage(*outputs: NodeOutput) -> tuple[str | None, str | None, int, int | None, int | None]:
    """provider, model, attempts and token counts of several calls, added up (the last call's names)."""
    last = outputs[-1]

    def total(name: str) -> int | None:
        counts = [getattr(o, name) for o in outputs if getattr(o, name) is not None]
        return sum(counts) if counts else None

    attempts = sum(o.attempts for o in outputs)
    return last.provider, last.model, attempts, total("input_tokens"), total("output_tokens")


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _ERROR_CHARS else message[: _ERROR_CHARS - 1] + "…"
