"""Structured output for the LLM kind: ask for JSON matching a schema, validate, repair once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.validators import validator_for

from engine.kinds.base import NodeCall, NodeError, NodeOutput

_ERROR_CHARS = 300


def schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` is not a JSON Schema an answer can be checked against, or None."""
    try:
        validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        return f"is not a valid JSON Schema: {_short(exc.message)}"
    return None


def answer_problem(text: str, schema: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The answer parsed as JSON, and why it is not valid against `schema` (None if it is)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"the answer is not JSON ({exc.msg} at character {exc.pos})"
    validator = validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
    error = best_match(validator.iter_errors(value))
    if error is None:
        return value, None
    return value, f"at {error.json_path}: {_short(error.message)}"


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
