"""Condition: routes its input to the `true` or the `false` output by a list of rules.

Only the chosen output gets a value; the other is a branch not taken, and what needs it is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import regex

from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.kinds.jsonpaths import find, path_problem
from engine.ports import Port, compact_json

# A regex that backtracks catastrophically is stopped after this long (the `regex` module's timeout).
REGEX_TIME_LIMIT_S = 1.0

NUMBER_OPERATORS = {
    "less_than": lambda a, b: a < b,
    "at_most": lambda a, b: a <= b,
    "greater_than": lambda a, b: a > b,
    "at_least": lambda a, b: a >= b,
}
OPERATORS = ("equals", "contains", "matches", "is_empty", *NUMBER_OPERATORS, "path_exists")
_NO_OPERAND = {"is_empty"}
_RULE_KEYS = {"operator", "value", "path", "negate"}
_MISSING = object()  # the subject of a rule whose `path` matched nothing


def as_text(value: Any) -> str:
    """A string as is, anything else as compact JSON: what equals, contains and matches look at."""
    return value if isinstance(value, str) else compact_json(value)


def as_number(value: Any) -> float | None:
    """A number, or a string holding one; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _equals(subject: Any, operand: Any) -> bool:
    a, b = as_number(subject), as_number(operand)
    if a is not None and b is not None and not isinstance(subject, str) and not isinstance(operand, str):
        return a == b
    return as_text(subject) == as_text(operand)


def _is_empty(subject: Any) -> bool:
    if subject is None or subject is _MISSING:
        return True
    if isinstance(subject, str):
        return not subject.strip()
    return isinstance(subject, Mapping | list) and not subject


def rule_problems(rules: Any) -> list[tuple[str, str]]:
    """What is wrong with a `rules` list, as (path under data, message) pairs."""
    if not isinstance(rules, list):
        return [("rules", "must be a list of rules")]
    if not rules:
        return [("rules", "add at least one rule")]
    problems: list[tuple[str, str]] = []
    for i, rule in enumerate(rules):
        at = f"rules[{i}]"
        if not isinstance(rule, Mapping):
            problems.append((at, "must be an object with an operator"))
            continue
        for key in sorted(set(rule) - _RULE_KEYS):
            problems.append((f"{at}.{key}", "is not a rule setting (operator, value, path, negate)"))
        operator = rule.get("operator")
        if operator not in OPERATORS:
            problems.append((f"{at}.operator", "must be one of " + ", ".join(OPERATORS)))
            continue
        if "path" in rule and (problem := path_problem(rule["path"])):
            problems.append((f"{at}.path", problem))
        if "negate" in rule and not isinstance(rule["negate"], bool):
            problems.append((f"{at}.negate", "must be true or false"))
        if operator in _NO_OPERAND:
            continue
        if "value" not in rule:
            problems.append((f"{at}.value", f"is required by {operator}"))
            continue
        operand = rule["value"]
        if operator in NUMBER_OPERATORS and as_number(operand) is None:
            problems.append((f"{at}.value", f"must be a number for {operator}"))
        elif operator == "matches":
            if not isinstance(operand, str):
                problems.append((f"{at}.value", "must be a regular expression"))
            else:
                try:
                    regex.compile(operand)
                except regex.error as exc:
                    problems.append((f"{at}.value", f"is not a regular expression: {exc}"))
        elif operator == "path_exists" and (problem := path_problem(operand)):
            problems.append((f"{at}.value", problem))
    return problems


def rule_holds(rule: Mapping[str, Any], value: Any, *, index: int = 0) -> bool:
    """Whether one (valid) rule holds for `value`."""
    subject: Any = value
    if "path" in rule:
        matches = find(rule["path"], value)
        subject = _MISSING if not matches else matches[0] if len(matches) == 1 else matches
    holds = _evaluate(rule["operator"], subject, rule.get("value"), index)
    return holds != bool(rule.get("negate", False))


def _evaluate(operator: str, subject: Any, operand: Any, index: int) -> bool:
    if operator == "is_empty":
        return _is_empty(subject)
    if subject is _MISSING:
        return False
    if operator == "equals":
        return _equals(subject, operand)
    if operator == "contains":
        if isinstance(subject, list):
            return any(_equals(item, operand) for item in subject)
        if isinstance(subject, Mapping):
            return as_text(operand) in subject
        return as_text(operand) in as_text(subject)
    if operator == "matches":
        try:
            return regex.search(operand, as_text(subject), timeout=REGEX_TIME_LIMIT_S) is not None
        except TimeoutError as exc:
            raise NodeError(
                "timeout", f"rules[{index}]: the regular expression ran past {REGEX_TIME_LIMIT_S:g} s"
            ) from exc
    if operator == "path_exists":
        return bool(find(operand, subject))
    number = as_number(subject)
    return number is not None and NUMBER_OPERATORS[operator](number, as_number(operand))


@register
class ConditionKind(NodeKind):
    type = "condition"
    label = "Condition"
    description = (
        "Checks its input against rules and passes it on through `true` or `false`; "
        "what hangs off the other output is skipped (branch not taken)."
    )
    palette_group = "Logic"
    palette_order = 80
    icon = "◇"
    summary = {
        "choose": [{"format": "rules", "field": "rules", "combineField": "combine", "empty": "No rules yet"}]
    }
    inputs = (Port("value", "any", required=True),)
    outputs = (Port("true", "any"), Port("false", "any"))
    data_schema = {
        "type": "object",
        "properties": {
            "combine": {
                "type": "string",
                "title": "Combine rules",
                "enum": ["all", "any"],
                "default": "all",
                "description": "all: every rule must hold; any: one is enough.",
            },
            "rules": {
                "type": "array",
                "title": "Rules",
                "default": [],
                "description": (
                    "Each {operator, value, path?, negate?}; operators: " + ", ".join(OPERATORS) + "."
                ),
                # What one rule holds, for the editor's row per rule; `check` validates it (rule_problems).
                "items": {
                    "type": "object",
                    "title": "Rule",
                    "required": ["operator"],
                    "properties": {
                        "operator": {
                            "type": "string",
                            "title": "Operator",
                            "enum": list(OPERATORS),
                            "default": "equals",
                        },
                        # Text or a number: equals compares numbers as numbers, the rest read text.
                        "value": {"title": "Value"},
                        "path": {
                            "type": "string",
                            "title": "Path",
                            "description": "Optional JSONPath into the input, e.g. $.label",
                        },
                        "negate": {"type": "boolean", "title": "Not", "default": False},
                    },
                },
            },
        },
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        return rule_problems(data.get("rules", []))

    def run(self, call: NodeCall) -> NodeOutput:
        value = call.inputs["value"]
        rules = call.data["rules"]
        holds = (rule_holds(rule, value, index=i) for i, rule in enumerate(rules))
        outcome = all(holds) if call.data["combine"] == "all" else any(holds)
        return NodeOutput({"true" if outcome else "false": value})
