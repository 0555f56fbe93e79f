"""Evaluators: how well one output of a workflow run matches what a dataset row expected, as a score from
0 to 1 with a reason. Pure functions, except `llm_judge`, which asks a model through an `LLMClient`.

An evaluator is `{name, type, output, expected?, threshold?, options?}`: `output` names a workflow output,
`expected` a field of the row's `expected` (default: the output's name), `threshold` the score a row needs
to pass (default 1).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpath
import jsonschema

from engine.costs import PriceTable
from engine.providers import LLMClient, LLMRequest, ProviderError

EVALUATOR_TYPES = (
    "exact",
    "contains",
    "regex",
    "json_schema",
    "jsonpath_equals",
    "numeric_close",
    "llm_judge",
)
MAX_EVALUATORS = 20
DEFAULT_RUBRIC = (
    "Score how well the output answers the task, from 0 (wrong) to 1 (fully right).\n"
    "Inputs: {{inputs}}\nExpected: {{expected}}\nOutput: {{output}}"
)
JUDGE_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
}


@dataclass(frozen=True)
class Score:
    score: float
    reason: str
    # A judge's model call: which model answered, what it used and cost (None: no price known).
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    provider: str = ""
    model: str = ""


@dataclass(frozen=True)
class Evaluator:
    name: str
    type: str
    output: str
    expected: str
    threshold: float
    options: Mapping[str, Any]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Evaluator:
        """An evaluator from a spec `evaluator_issues` found nothing wrong with."""
        return cls(
            name=spec["name"],
            type=spec["type"],
            output=spec["output"],
            expected=spec.get("expected") or spec["output"],
            threshold=float(spec.get("threshold", 1)),
            options=spec.get("options") or {},
        )

    def as_spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "output": self.output,
            "expected": self.expected,
            "threshold": self.threshold,
            "options": dict(self.options),
        }


def evaluator_issues(specs: Any, *, outputs: set[str] | None = None) -> list[dict[str, str]]:
    """What is wrong with a list of evaluator specs, each as `{path, message}` (`evaluators[i].field`);
    with `outputs`, an evaluator must name one of them."""
    if not isinstance(specs, list) or not specs:
        return [{"path": "evaluators", "message": "give a list of one or more evaluators"}]
    if len(specs) > MAX_EVALUATORS:
        return [{"path": "evaluators", "message": f"at most {MAX_EVALUATORS} evaluators"}]
    issues: list[dict[str, str]] = []
    names: set[str] = set()
    for i, spec in enumerate(specs):
        at = f"evaluators[{i}]"
        if not isinstance(spec, Mapping):
            issues.append({"path": at, "message": "must be an object"})
            continue
        for field in ("name", "type", "output"):
            if not isinstance(spec.get(field), str) or not spec.get(field):
                issues.append({"path": f"{at}.{field}", "message": "required text"})
        name, kind, output = spec.get("name"), spec.get("type"), spec.get("output")
        if isinstance(name, str) and name in names:
            issues.append({"path": f"{at}.name", "message": f"two evaluators are named '{name}'"})
        if isinstance(name, str):
            names.add(name)
        if isinstance(kind, str) and kind not in EVALUATOR_TYPES:
            issues.append({"path": f"{at}.type", "message": f"one of {', '.join(EVALUATOR_TYPES)}"})
        if outputs is not None and isinstance(output, str) and output and output not in outputs:
            known = ", ".join(sorted(outputs)) or "none"
            issues.append(
                {"path": f"{at}.output", "message": f"no output named '{output}' (outputs: {known})"}
            )
        if "expected" in spec and not isinstance(spec["expected"], str | None):
            issues.append({"path": f"{at}.expected", "message": "the name of a field of the row's expected"})
        threshold = spec.get("threshold", 1)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            issues.append({"path": f"{at}.threshold", "message": "a number from 0 to 1"})
        options = spec.get("options") or {}
        if not isinstance(options, Mapping):
            issues.append({"path": f"{at}.options", "message": "must be an object"})
            continue
        issues += [
            {"path": f"{at}.options.{field}", "message": m} for field, m in _option_issues(kind, options)
        ]
    return issues


def _option_issues(kind: Any, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    if kind == "regex":
        try:
            re.compile(options.get("pattern", ""))
        except (re.error, TypeError) as exc:
            return [("pattern", f"not a regular expression: {exc}")]
    if kind == "json_schema":
        try:
            jsonschema.validators.validator_for(options.get("schema")).check_schema(options.get("schema"))
        except (jsonschema.SchemaError, TypeError, AttributeError) as exc:
            return [("schema", f"not a JSON Schema: {getattr(exc, 'message', exc)}")]
    if kind == "jsonpath_equals":
        try:
            jsonpath.compile(options["path"])
        except (KeyError, TypeError, jsonpath.JSONPathError) as exc:
            return [("path", f"a JSONPath such as $.answer is required ({exc})")]
    if kind == "numeric_close":
        tolerance = options.get("tolerance", 0)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
            return [("tolerance", "a number >= 0")]
    if kind == "llm_judge":
        rubric, models = options.get("rubric", DEFAULT_RUBRIC), options.get("models", [])
        if not isinstance(rubric, str) or not rubric.strip():
            return [("rubric", "a prompt template using {{output}}, {{expected}} and {{inputs}}")]
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            return [("models", "a list of model references (connection/model)")]
    return []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _exact(evaluator: Evaluator, output: Any, expected: Any) -> Score:
    if output == expected or _text(output).strip() == _text(expected).strip():
        return Score(1.0, "equal")
    return Score(0.0, f"expected {_text(expected)[:200]!r}, got {_text(output)[:200]!r}")


def _contains(evaluator: Evaluator, output: Any, expected: Any) -> Score:
    needle, haystack = _text(expected), _text(output)
    if not evaluator.options.get("caseSensitive", False):
        needle, haystack = needle.lower(), haystack.lower()
    if needle in haystack:
        return Score(1.0, "contains the expected text")
    return Score(0.0, f"does not contain {_text(expected)[:200]!r}")


def _regex(evaluator: Evaluator, output: Any, expected: Any) -> Score:
    pattern = evaluator.options.get("pattern") or _text(expected)
    if re.search(pattern, _text(output)):
        return Score(1.0, f"matches /{pattern}/")
    return Score(0.0, f"does not match /{pattern}/")


def _parsed(output: Any) -> Any:
    """A text output that holds JSON, parsed (an LLM answers JSON as text)."""
    if isinstance(output, str):
        try:
            return json.loads(output)
        except ValueError:
            return output
    return output


def _json_schema(evaluator: Evaluator, output: Any, expected: Any) -> Score:
    error = jsonschema.exceptions.best_match(
        jsonschema.validators.validator_for(evaluator.options["schema"])(
            evaluator.options["schema"]
        ).iter_errors(_parsed(output))
    )
    if error is None:
        return Score(1.0, "valid against the schema")
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return Score(0.0, f"invalid at {where}: {error.message}"[:300])


def _jsonpath_equals(evaluator: Evaluator, output: Any, expected: Any) -> Score:
    found = jsonpath.findall(evaluator.options["path"], _parsed(output))
    if not found:
        return Score(0.0, f"nothing at {evaluator.options['path']}")
    value = found[0]
    if value == expected or _text(value) == _text(expected):
        return Score(1.0, f"{evaluator.options['path']} equals the expected value")
    return Score(
        0.0, f"{evaluator.options['path']} is {_text(value)[:200]!r}, expected {_text(expected)[:200]!r}"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _numeric_close(evaluator: Evaluator, output: Any, expected: Any) -> Score:
    got, want = _number(output), _number(expected)
    if got is None or want is None:
        return Score(0.0, f"not numbers: got {_text(output)[:100]!r}, expected {_text(expected)[:100]!r}")
    tolerance = float(evaluator.options.get("tolerance", 0))
    if abs(got - want) <= tolerance:
        return Score(1.0, f"{got:g} is within {tolerance:g} of {want:g}")
    return Score(0.0, f"{got:g} is {abs(got - want):g} away from {want:g} (tolerance {tolerance:g})")


PURE_EVALUATORS: dict[str, Callable[[Evaluator, Any, Any], Score]] = {
    "exact": _exact,
    "contains": _contains,
    "regex": _regex,
    "json_schema": _json_schema,
    "jsonpath_equals": _jsonpath_equals,
    "numeric_close": _numeric_close,
}


def judge_prompt(rubric: str, *, output: Any, expected: Any, inputs: Mapping[str, Any]) -> str:
    values = {"output": _text(output), "expected": _text(expected), "inputs": _text(dict(inputs))}
    return re.sub(r"\{\{\s*(output|expected|inputs)\s*\}\}", lambda m: values[m.group(1)], rubric)


# A judge answers a score and a short reason: its calls are capped at this many output tokens, which is also
# what a budget reserves for one.
JUDGE_MAX_OUTPUT_TOKENS = 512
_CHARS_PER_TOKEN = 4  # as the LLM node's estimate


def judge_request(
    evaluator: Evaluator,
    *,
    outputs: Mapping[str, Any],
    expected: Mapping[str, Any],
    inputs: Mapping[str, Any],
) -> LLMRequest:
    """The model call an `llm_judge` evaluator makes for one run's outputs."""
    return LLMRequest(
        prompt=judge_prompt(
            evaluator.options.get("rubric", DEFAULT_RUBRIC),
            output=outputs.get(evaluator.output),
            expected=expected.get(evaluator.expected),
            inputs=inputs,
        ),
        system='You are a strict evaluator. Answer only with JSON: {"score": 0..1, "reason": "..."}.',
        models=tuple(evaluator.options.get("models") or ()),
        skip_missing_connections=not evaluator.options.get("models"),
        temperature=0,
        max_output_tokens=JUDGE_MAX_OUTPUT_TOKENS,
        json_schema=JUDGE_SCHEMA,
    )


def judge_estimate(request: LLMRequest) -> tuple[int, int]:
    """The most a judge's call may use, (prompt tokens, output tokens), for a budget to reserve."""
    chars = len(request.prompt) + len(request.system or "") + len(json.dumps(request.json_schema))
    return -(-chars // _CHARS_PER_TOKEN), request.max_output_tokens or JUDGE_MAX_OUTPUT_TOKENS


def _judge(request: LLMRequest, llm: LLMClient, prices: PriceTable | None) -> Score:
    try:
        response = llm.generate(request)
    except ProviderError as exc:
        return Score(0.0, f"the judge could not answer: {exc.message}")
    cost = (
        prices.cost(response.provider, response.model, response.input_tokens, response.output_tokens)
        if prices is not None
        else None
    )
    usage = {
        "input_tokens": response.input_tokens or 0,
        "output_tokens": response.output_tokens or 0,
        "cost": float(cost) if cost is not None else None,
        "provider": response.provider or "",
        "model": response.model or "",
    }
    try:
        answer = json.loads(response.text)
        score = _number(answer["score"])
        reason = str(answer.get("reason", ""))
    except (ValueError, TypeError, KeyError):
        return Score(0.0, f"the judge's answer is not the asked JSON: {response.text[:200]!r}", **usage)
    if score is None:
        return Score(0.0, f"the judge's score is not a number: {answer['score']!r}", **usage)
    return Score(min(1.0, max(0.0, score)), reason[:1000], **usage)


def evaluate(
    evaluator: Evaluator,
    *,
    outputs: Mapping[str, Any],
    expected: Mapping[str, Any],
    inputs: Mapping[str, Any],
    llm: LLMClient | None = None,
    prices: PriceTable | None = None,
) -> Score:
    """One evaluator's score for one run's outputs against one row."""
    if evaluator.output not in outputs:
        return Score(0.0, f"the run produced no output '{evaluator.output}'")
    output, wanted = outputs[evaluator.output], expected.get(evaluator.expected)
    if evaluator.type == "llm_judge":
        if llm is None:
            raise ValueError("llm_judge needs an LLM client")
        request = judge_request(evaluator, outputs=outputs, expected=expected, inputs=inputs)
        return _judge(request, llm, prices)
    if wanted is None and not (evaluator.type == "json_schema" or evaluator.options.get("pattern")):
        return Score(0.0, f"the row expects no '{evaluator.expected}'")
    return PURE_EVALUATORS[evaluator.type](evaluator, output, wanted)
