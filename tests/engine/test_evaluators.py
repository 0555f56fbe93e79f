"""Evaluators: each type's score and reason, the spec checks, and the LLM judge against the fake server."""

from __future__ import annotations

import json

import pytest

from engine import PriceTable, build_llm_client
from engine.evaluators import Evaluator, evaluate, evaluator_issues, judge_prompt
from tests.engine.helpers import config_for
from tests.fakes.llm_server import prompt_text


def score(type_: str, output, expected, **options) -> float:
    evaluator = Evaluator.from_spec({"name": "e", "type": type_, "output": "answer", "options": options})
    return evaluate(evaluator, outputs={"answer": output}, expected={"answer": expected}, inputs={}).score


@pytest.mark.parametrize(
    ("type_", "output", "expected", "options", "wanted"),
    [
        ("exact", "Paris", "Paris", {}, 1.0),
        ("exact", " Paris\n", "Paris", {}, 1.0),
        ("exact", "paris", "Paris", {}, 0.0),
        ("exact", {"a": 1}, {"a": 1}, {}, 1.0),
        ("contains", "It is Paris.", "paris", {}, 1.0),
        ("contains", "It is Paris.", "paris", {"caseSensitive": True}, 0.0),
        ("regex", "order #1234", None, {"pattern": r"#\d{4}"}, 1.0),
        ("regex", "order #12", None, {"pattern": r"#\d{4}"}, 0.0),
        ("json_schema", '{"n": 3}', None, {"schema": {"type": "object", "required": ["n"]}}, 1.0),
        ("json_schema", '{"m": 3}', None, {"schema": {"type": "object", "required": ["n"]}}, 0.0),
        ("jsonpath_equals", '{"city": {"name": "Paris"}}', "Paris", {"path": "$.city.name"}, 1.0),
        ("jsonpath_equals", {"items": [1, 2]}, 2, {"path": "$.items[1]"}, 1.0),
        ("jsonpath_equals", {"items": [1, 2]}, 3, {"path": "$.items[1]"}, 0.0),
        ("numeric_close", "3.14", "3.1416", {"tolerance": 0.01}, 1.0),
        ("numeric_close", 3.2, 3.1416, {"tolerance": 0.01}, 0.0),
        ("numeric_close", "three", 3, {}, 0.0),
    ],
)
def test_each_pure_evaluator_scores_one_or_zero(type_, output, expected, options, wanted):
    assert score(type_, output, expected, **options) == wanted


def test_a_missing_output_or_expected_value_scores_zero_and_says_why():
    evaluator = Evaluator.from_spec({"name": "e", "type": "exact", "output": "answer", "expected": "gold"})

    missing_output = evaluate(evaluator, outputs={}, expected={"gold": "x"}, inputs={})
    missing_expected = evaluate(evaluator, outputs={"answer": "x"}, expected={}, inputs={})

    assert (missing_output.score, missing_output.reason) == (0.0, "the run produced no output 'answer'")
    assert (missing_expected.score, missing_expected.reason) == (0.0, "the row expects no 'gold'")


def test_the_spec_checks_name_each_bad_field():
    issues = evaluator_issues(
        [
            {"name": "a", "type": "exact", "output": "answer"},
            {"name": "a", "type": "fuzzy", "output": "nope", "threshold": 2},
            {"name": "r", "type": "regex", "output": "answer", "options": {"pattern": "("}},
            {"name": "j", "type": "jsonpath_equals", "output": "answer", "options": {}},
        ],
        outputs={"answer"},
    )

    assert [issue["path"] for issue in issues] == [
        "evaluators[1].name",
        "evaluators[1].type",
        "evaluators[1].output",
        "evaluators[1].threshold",
        "evaluators[2].options.pattern",
        "evaluators[3].options.path",
    ]
    assert evaluator_issues([]) == [
        {"path": "evaluators", "message": "give a list of one or more evaluators"}
    ]


def test_the_rubric_template_fills_output_expected_and_inputs():
    prompt = judge_prompt(
        "Q: {{ inputs }} A: {{output}} want {{expected}}", output="4", expected=4, inputs={"q": "2+2"}
    )

    assert prompt == 'Q: {"q": "2+2"} A: 4 want 4'


def test_the_llm_judge_asks_for_a_structured_score_and_counts_its_usage(fake_llm):
    fake_llm.reply = lambda provider, body: json.dumps({"score": 0.75, "reason": "close enough"})
    llm = build_llm_client(config_for(fake_llm, max_attempts=1, groq_api_key=None))
    prices = PriceTable({"gemini": {}})
    evaluator = Evaluator.from_spec(
        {
            "name": "judge",
            "type": "llm_judge",
            "output": "answer",
            "threshold": 0.7,
            "options": {"rubric": "Grade {{output}} against {{expected}}"},
        }
    )

    result = evaluate(
        evaluator, outputs={"answer": "Lyon"}, expected={"answer": "Paris"}, inputs={}, llm=llm, prices=prices
    )

    assert (result.score, result.reason) == (0.75, "close enough")
    assert result.input_tokens > 0
    assert result.output_tokens > 0
    [request] = fake_llm.requests
    assert prompt_text(request.provider, request.body) == "Grade Lyon against Paris"
    assert request.body["generationConfig"]["responseJsonSchema"]["required"] == ["score", "reason"]


def test_a_judge_answer_that_is_not_the_asked_json_scores_zero(fake_llm):
    fake_llm.reply = lambda provider, body: "I think it is fine"
    llm = build_llm_client(config_for(fake_llm, max_attempts=1, groq_api_key=None))
    evaluator = Evaluator.from_spec({"name": "judge", "type": "llm_judge", "output": "answer"})

    result = evaluate(evaluator, outputs={"answer": "x"}, expected={}, inputs={}, llm=llm)

    assert result.score == 0.0
    assert result.reason.startswith("the judge's answer is not the asked JSON")
