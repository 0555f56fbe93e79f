"""Experiments end to end on a real worker: every row and repeat runs once through run_start and is scored;
reuse makes a repeated experiment free and an edited one pay only downstream of the edit; concurrency,
cancel and the daily budget bound it, judges' calls included."""

from __future__ import annotations

import itertools
import json

import pytest

from evaluations.models import Experiment, ExperimentItem
from runs.models import NodeResult, RunTrigger, UserBudget, WorkflowRun
from tests.evaluations.helpers import make_workflow, save_version, wait_finished
from tests.fakes.llm_server import echo_reply
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOPICS = ["cats", "dogs", "birds"]
EVALUATORS = [
    {"name": "right", "type": "exact", "output": "answer"},
    {"name": "mentions", "type": "contains", "output": "summary", "expected": "topic"},
]


def dataset(client, topics=TOPICS, wrong: str = "birds") -> str:
    dataset_id = client.post("/api/datasets", {"name": "Topics"}, format="json").json()["id"]
    rows = [
        {
            "inputs": {"topic": topic},
            "expected": {"answer": "nope" if topic == wrong else f"echo: Answer: {topic}", "topic": topic},
        }
        for topic in topics
    ]
    client.post(f"/api/datasets/{dataset_id}/rows", {"rows": rows}, format="json")
    return dataset_id


def start(client, workflow, dataset_id, **options) -> str:
    body = {"workflowId": str(workflow.pk), "datasetId": dataset_id, "evaluators": EVALUATORS, **options}
    response = client.post("/api/experiments", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_every_row_and_repeat_runs_once_and_is_scored(alice, alice_client, llm_settings, worker):
    workflow = make_workflow(alice)
    experiment_id = start(alice_client, workflow, dataset(alice_client), version=1, repeats=2)

    wait_finished(experiment_id)
    detail = alice_client.get(f"/api/experiments/{experiment_id}").json()
    items = alice_client.get(f"/api/experiments/{experiment_id}/items?limit=100").json()["results"]

    assert detail["status"] == "succeeded"
    assert detail["progress"] == {"total": 6, "pending": 0, "running": 0, "scored": 6, "skipped": 0}
    assert detail["aggregates"]["meanScores"] == {"right": pytest.approx(4 / 6), "mentions": 1.0}
    assert detail["aggregates"]["passRate"] == pytest.approx(4 / 6)
    assert detail["aggregates"]["passHatK"] == pytest.approx(2 / 3)
    cats = items[0]
    assert (cats["rowIndex"], cats["repeat"], cats["passed"]) == (0, 0, True)
    assert cats["outputs"] == {"summary": "echo: cats", "answer": "echo: Answer: cats"}
    assert cats["scores"][0] == {"name": "right", "score": 1.0, "reason": "equal"}
    assert [i["passed"] for i in items if i["rowIndex"] == 2] == [False, False]
    runs = WorkflowRun.objects.filter(trigger=RunTrigger.EVALUATION, trigger_ref=experiment_id)
    assert runs.count() == 6  # one run per row and repeat, never two
    assert set(ExperimentItem.objects.values_list("run_id", flat=True)) == set(
        runs.values_list("id", flat=True)
    )
    assert set(runs.values_list("workflow_version", flat=True)) == {1}


def test_a_second_identical_experiment_calls_no_model_and_an_edit_pays_only_downstream(
    alice, alice_client, llm_settings, worker
):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client)
    wait_finished(start(alice_client, workflow, dataset_id, version=1))
    first_calls = len(llm_settings.requests)

    wait_finished(start(alice_client, workflow, dataset_id, version=1))
    again_calls = len(llm_settings.requests) - first_calls
    save_version(workflow, alice, second_template="Briefly: {{topic}}")
    edited_id = start(alice_client, workflow, dataset_id, version=2)
    wait_finished(edited_id)
    edited_calls = len(llm_settings.requests) - first_calls

    assert first_calls == 2 * len(TOPICS)
    assert again_calls == 0
    assert edited_calls == len(TOPICS)  # the `second` LLM only: `first` is upstream of the edit
    assert ExperimentItem.objects.filter(experiment_id=edited_id, passed=False).count() == len(TOPICS)


def test_compare_shows_regressed_rows_deltas_and_the_version_diff(
    alice, alice_client, bob_client, llm_settings, worker
):
    workflow = make_workflow(alice)
    dataset_id = dataset(alice_client)
    a = start(alice_client, workflow, dataset_id, version=1)
    wait_finished(a)
    save_version(workflow, alice, second_template="Briefly: {{topic}}")
    b = start(alice_client, workflow, dataset_id, version=2)
    wait_finished(b)

    compared = alice_client.get(f"/api/experiments/compare?a={a}&b={b}")

    assert compared.status_code == 200
    body = compared.json()
    assert [row["changes"]["right"] for row in body["rows"]] == ["regressed", "regressed", "unchanged"]
    assert body["changes"]["right"] == {"improved": 0, "regressed": 2, "unchanged": 1, "missing": 0}
    assert body["changes"]["mentions"]["unchanged"] == 3
    assert body["deltas"]["passRate"] == pytest.approx(-2 / 3)
    assert body["rows"][0]["inputs"] == {"topic": "cats"}
    [changed] = body["versionDiff"]["nodes"]["changed"]
    assert changed["id"] == "prompt"
    assert changed["fields"] == [
        {"field": "data.template", "old": "Answer: {{topic}}", "new": "Briefly: {{topic}}"}
    ]
    assert bob_client.get(f"/api/experiments/compare?a={a}&b={b}").status_code == 404


def test_concurrency_one_starts_each_run_after_the_previous_one_ended(
    alice, alice_client, llm_settings, worker
):
    workflow = make_workflow(alice)
    experiment_id = start(alice_client, workflow, dataset(alice_client), version=1, concurrency=1)

    wait_finished(experiment_id)

    runs = list(WorkflowRun.objects.filter(trigger_ref=experiment_id).order_by("created_at"))
    assert len(runs) == 3
    assert all(later.created_at >= earlier.completed_at for earlier, later in itertools.pairwise(runs))


def test_cancel_skips_the_rows_not_started_and_cancels_the_run_in_flight(
    alice, alice_client, llm_settings, worker
):
    llm_settings.latency_s = 0.5
    workflow = make_workflow(alice)
    experiment_id = start(alice_client, workflow, dataset(alice_client), version=1, concurrency=1)
    wait_for(lambda: ExperimentItem.objects.filter(experiment_id=experiment_id, status="running").exists())

    cancelled = alice_client.post(f"/api/experiments/{experiment_id}/cancel")
    wait_finished(experiment_id)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    experiment = Experiment.objects.get(pk=experiment_id)
    statuses = sorted(experiment.items.values_list("status", flat=True))
    assert statuses == ["scored", "skipped", "skipped"]
    assert experiment.items.get(status="scored").run_status == "cancelled"
    assert alice_client.post(f"/api/experiments/{experiment_id}/cancel").status_code == 409


def test_the_daily_budget_stops_the_experiment_cleanly(alice, alice_client, llm_settings, worker):
    UserBudget.objects.create(owner=alice, daily_tokens=1)
    workflow = make_workflow(alice)
    experiment_id = start(alice_client, workflow, dataset(alice_client), version=1, concurrency=1)

    experiment = wait_finished(experiment_id)

    assert experiment.status == "stopped"
    assert experiment.stop_reason.startswith("Stopped: daily token budget of 1 reached")
    assert sorted(experiment.items.values_list("status", flat=True)) == ["scored", "skipped", "skipped"]
    assert WorkflowRun.objects.filter(trigger_ref=experiment_id).count() == 1
    assert llm_settings.requests == []


JUDGE = {"name": "judge", "type": "llm_judge", "output": "answer", "threshold": 0.5}


def judge_or_echo(provider, body) -> str:
    """The judge asks for a JSON schema and gets a score; the workflow's own calls get the echo."""
    if body.get("generationConfig", {}).get("responseJsonSchema"):
        return json.dumps({"score": 0.75, "reason": "close enough"})
    return echo_reply(provider, body)


def test_judge_calls_are_recorded_where_the_usage_report_counts_them(
    alice, alice_client, llm_settings, worker
):
    llm_settings.reply = judge_or_echo
    workflow = make_workflow(alice)
    experiment_id = start(alice_client, workflow, dataset(alice_client), version=1, evaluators=[JUDGE])

    wait_finished(experiment_id)

    judged = NodeResult.objects.filter(run__trigger_ref=experiment_id, node_type="llm_judge")
    assert judged.count() == len(TOPICS)
    assert all(result.input_tokens > 0 and result.output_tokens > 0 for result in judged)
    assert all(result.model for result in judged)
    usage = alice_client.get("/api/usage?groupBy=workflow").json()
    # Two workflow calls and one judge call per row, all in the workflow's line of the report.
    assert usage["total"]["calls"] == 3 * len(TOPICS)
    [line] = usage["results"]
    assert line["key"] == str(workflow.pk)
    items = ExperimentItem.objects.filter(experiment_id=experiment_id)
    assert sorted(items.values_list("passed", flat=True)) == [True, True, True]
    judge_tokens = sum(r.input_tokens + r.output_tokens for r in judged)
    run_tokens = sum(
        r.input_tokens + r.output_tokens for r in WorkflowRun.objects.filter(trigger_ref=experiment_id)
    )
    assert sum(i.input_tokens + i.output_tokens for i in items) == run_tokens + judge_tokens


def test_a_judge_call_that_would_cross_the_daily_budget_is_not_made_and_stops_the_experiment(
    alice, alice_client, llm_settings, worker
):
    llm_settings.reply = judge_or_echo
    # Room for the workflow's two calls of a row (each holds its 1,024 output tokens and a few of prompt),
    # not for a judge whose long rubric alone is about 2,750 tokens.
    UserBudget.objects.create(owner=alice, daily_tokens=3000)
    long_judge = {**JUDGE, "options": {"rubric": "Grade {{output}}. " + "Be strict. " * 1000}}
    workflow = make_workflow(alice)
    experiment_id = start(
        alice_client, workflow, dataset(alice_client), version=1, evaluators=[long_judge], concurrency=1
    )

    experiment = wait_finished(experiment_id)

    assert experiment.status == "stopped"
    assert experiment.stop_reason.startswith("Stopped: daily token budget of 3000 reached")
    assert sorted(experiment.items.values_list("status", flat=True)) == ["skipped", "skipped", "skipped"]
    assert experiment.done_count == experiment.item_count == 3
    judge_requests = [
        r for r in llm_settings.requests if r.body.get("generationConfig", {}).get("responseJsonSchema")
    ]
    assert judge_requests == []
    assert len(llm_settings.requests) == 2  # the first row's run, whose judge was refused
    assert not NodeResult.objects.filter(node_type="llm_judge").exists()


def test_the_list_shows_progress_and_running_aggregates_before_the_experiment_settles(
    alice, alice_client, llm_settings, worker
):
    llm_settings.latency_s = 0.3
    workflow = make_workflow(alice)
    topics = [f"topic {i}" for i in range(6)]
    experiment_id = start(alice_client, workflow, dataset(alice_client, topics), version=1, concurrency=1)

    wait_for(lambda: Experiment.objects.filter(pk=experiment_id, summary_at__isnull=False).exists())
    [running] = alice_client.get(f"/api/experiments?workflowId={workflow.pk}").json()["results"]
    wait_finished(experiment_id)
    [settled] = alice_client.get(f"/api/experiments?workflowId={workflow.pk}").json()["results"]

    assert running["status"] == "running"
    assert 1 <= running["done"] < running["total"] == 6
    # The first scored row writes the summary at once; later rows within a few seconds wait for the next.
    assert 1 <= running["summary"]["scored"] <= running["done"]
    assert (settled["done"], settled["total"]) == (6, 6)
    assert settled["summary"]["scored"] == 6
