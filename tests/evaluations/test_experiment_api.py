"""The experiments API without a worker: planning, the 400s that name the field, lists, ownership."""

from __future__ import annotations

import pytest

from evaluations.models import Experiment, ExperimentItem
from tests.evaluations.helpers import make_workflow

pytestmark = pytest.mark.django_db

EVALUATORS = [{"name": "right", "type": "exact", "output": "answer"}]


def dataset(client, rows) -> str:
    dataset_id = client.post("/api/datasets", {"name": "Topics"}, format="json").json()["id"]
    assert client.post(f"/api/datasets/{dataset_id}/rows", {"rows": rows}, format="json").status_code == 200
    return dataset_id


def body(workflow, dataset_id, **options):
    return {"workflowId": str(workflow.pk), "datasetId": dataset_id, "evaluators": EVALUATORS, **options}


def test_the_plan_counts_runs_model_calls_and_judge_calls(alice, alice_client):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client, [{"inputs": {"topic": t}} for t in ("a", "b", "c")])
    judge = {"name": "judge", "type": "llm_judge", "output": "answer"}

    plan = alice_client.post(
        "/api/experiments/plan",
        body(workflow, dataset_id, repeats=2, evaluators=[*EVALUATORS, judge]),
        format="json",
    )

    assert plan.status_code == 200, plan.content
    assert plan.json() == {"runs": 6, "llmCalls": 12, "judgeCalls": 6, "reusedNodes": 0, "concurrency": 4}
    assert Experiment.objects.count() == 0


def test_starting_creates_one_pending_item_per_row_and_repeat(alice, alice_client):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client, [{"inputs": {"topic": t}} for t in ("a", "b")])

    response = alice_client.post(
        "/api/experiments", body(workflow, dataset_id, repeats=3, version="draft"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["status"] == "running"
    assert response.json()["workflowVersion"] == 1
    items = ExperimentItem.objects.filter(experiment_id=response.json()["id"])
    assert sorted(items.values_list("row_index", "repeat")) == [(r, k) for r in (0, 1) for k in range(3)]
    assert set(items.values_list("status", flat=True)) == {"pending"}


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"evaluators": [{"name": "x", "type": "exact", "output": "nope"}]}, "evaluators[0].output"),
        (
            {"evaluators": [{"name": "x", "type": "regex", "output": "answer", "options": {"pattern": "("}}]},
            "evaluators[0].options.pattern",
        ),
        ({"evaluators": []}, "evaluators"),
        ({"repeats": 0}, "repeats"),
        ({"concurrency": 1000}, "concurrency"),
        ({"version": "latest"}, "version"),
        ({"version": 7}, "version"),
    ],
)
def test_a_bad_experiment_is_a_400_naming_the_field(alice, alice_client, options, path):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client, [{"inputs": {"topic": "a"}}])

    response = alice_client.post("/api/experiments", body(workflow, dataset_id, **options), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path
    assert Experiment.objects.count() == 0


def test_rows_that_do_not_fit_the_workflows_inputs_are_named(alice, alice_client):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client, [{"inputs": {"topic": "a"}}, {"inputs": {"subject": "b"}}])

    response = alice_client.post("/api/experiments/plan", body(workflow, dataset_id), format="json")

    assert response.status_code == 400
    paths = [error["path"] for error in response.json()["errors"]]
    assert "dataset.rows[1].inputs.topic" in paths


def test_another_users_experiment_dataset_and_workflow_are_404s(alice, alice_client, bob, bob_client):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client, [{"inputs": {"topic": "a"}}])
    experiment_id = alice_client.post("/api/experiments", body(workflow, dataset_id), format="json").json()[
        "id"
    ]
    bob_workflow = make_workflow(bob)
    bob_dataset = dataset(bob_client, [{"inputs": {"topic": "a"}}])

    assert bob_client.get(f"/api/experiments/{experiment_id}").status_code == 404
    assert bob_client.get(f"/api/experiments/{experiment_id}/items").status_code == 404
    assert bob_client.post(f"/api/experiments/{experiment_id}/cancel").status_code == 404
    assert bob_client.get(f"/api/experiments/compare?a={experiment_id}&b={experiment_id}").status_code == 404
    assert (
        bob_client.post("/api/experiments", body(bob_workflow, dataset_id), format="json").status_code == 404
    )
    assert bob_client.post("/api/experiments", body(workflow, bob_dataset), format="json").status_code == 404
    assert bob_client.get("/api/experiments").json()["count"] == 0
    assert bob_client.get(f"/api/experiments?workflowId={workflow.pk}").status_code == 404


def test_the_experiment_list_filters_by_workflow_in_a_constant_number_of_queries(
    alice, alice_client, django_assert_max_num_queries
):
    workflow, other = make_workflow(alice), make_workflow(alice)
    dataset_id = dataset(alice_client, [{"inputs": {"topic": "a"}}])
    for flow in (workflow, workflow, workflow, other):
        alice_client.post("/api/experiments", body(flow, dataset_id), format="json")

    with django_assert_max_num_queries(7):
        listed = alice_client.get(f"/api/experiments?workflowId={workflow.pk}&limit=2")
    with django_assert_max_num_queries(7):
        items = alice_client.get(f"/api/experiments/{listed.json()['results'][0]['id']}/items")

    assert listed.json()["count"] == 3
    assert listed.json()["results"][0]["datasetName"] == "Topics"
    assert (listed.json()["results"][0]["done"], listed.json()["results"][0]["total"]) == (0, 1)
    assert items.json()["results"][0]["inputs"] == {"topic": "a"}
