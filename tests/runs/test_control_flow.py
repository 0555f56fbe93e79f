"""A run through the runs app with structured output, a Condition and a Merge, taken both ways."""

from __future__ import annotations

import json

import pytest

from runs.driving import run_execute
from runs.models import NodeResult, RunStatus
from runs.services import run_create
from tests.graphs import edge, graph, node

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {"category": {"enum": ["bug", "question"]}},
    "required": ["category"],
}


def classify_and_route() -> dict[str, list]:
    """classify (LLM -> JSON) -> Condition on $.category -> a Prompt per branch -> Merge -> Debug."""
    return graph(
        [
            node("ticket", "text", text="It crashes"),
            node("classify", "llm", jsonSchema=SCHEMA),
            node("is-bug", "condition", rules=[{"operator": "equals", "path": "$.category", "value": "bug"}]),
            node("bug", "prompt", template="Fix: {{t}}"),
            node("question", "prompt", template="Answer: {{t}}"),
            node("join", "merge"),
            node("out", "debug"),
        ],
        [
            edge("ticket", "classify", "text", "prompt"),
            edge("classify", "is-bug", "json", "value"),
            edge("is-bug", "bug", "true", "t"),
            edge("is-bug", "question", "false", "t"),
            edge("bug", "join", "text", "values"),
            edge("question", "join", "text", "values"),
            edge("join", "out", "value", "value"),
        ],
    )


@pytest.mark.parametrize(
    ("category", "taken", "not_taken"), [("bug", "bug", "question"), ("question", "question", "bug")]
)
def test_a_run_takes_one_branch_and_records_the_other_as_not_taken(
    alice, llm_settings, category: str, taken: str, not_taken: str
) -> None:
    llm_settings.reply = lambda provider, body: json.dumps({"category": category})
    run = run_create(owner=alice, graph=classify_and_route(), enqueue=False)

    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    results = {r.node_id: r for r in NodeResult.objects.filter(run=run)}
    assert results[not_taken].status == "skipped"
    assert results[not_taken].error_kind == "branch_not_taken"
    assert results[taken].status == "succeeded"
    prefix = "Fix" if taken == "bug" else "Answer"
    # The Condition passes the JSON on through an `any` port: the Prompt writes it as it writes any value.
    assert results["out"].output == {"value": f'{prefix}: {{"category": "{category}"}}'}
    assert (finished.succeeded_nodes, finished.failed_nodes, finished.skipped_nodes) == (6, 0, 1)


def test_executing_a_graph_with_a_bad_condition_rule_is_a_400_with_its_path(alice_client) -> None:
    g = classify_and_route()
    g["nodes"][2]["data"]["rules"] = [{"operator": "matches", "value": "(unclosed"}]
    g["nodes"][1]["data"]["jsonSchema"] = {"type": "objekt"}

    response = alice_client.post("/api/execute", g, format="json")

    assert response.status_code == 400
    paths = [error["path"] for error in response.json()["errors"]]
    assert paths == ["nodes[1].data.jsonSchema", "nodes[2].data.rules[0].value"]
