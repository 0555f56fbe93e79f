"""`manage.py evaluate`: progress, aggregates, and a non-zero exit below --min-pass-rate."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from evaluations.models import Dataset, DatasetRow, Experiment
from tests.evaluations.helpers import make_workflow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def two_row_dataset(owner) -> Dataset:
    dataset = Dataset.objects.create(owner=owner, name="Gate", row_count=2)
    for index, topic in enumerate(("cats", "dogs")):
        expected = "echo: Answer: cats" if topic == "cats" else "wrong"
        DatasetRow.objects.create(
            dataset=dataset, index=index, inputs={"topic": topic}, expected={"answer": expected}
        )
    return dataset


def evaluators_file(tmp_path) -> str:
    path = tmp_path / "evaluators.json"
    path.write_text(json.dumps([{"name": "right", "type": "exact", "output": "answer"}]))
    return str(path)


def test_a_pass_rate_below_the_minimum_exits_non_zero(alice, llm_settings, worker, tmp_path):
    workflow, dataset = make_workflow(alice), two_row_dataset(alice)
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command(
            "evaluate",
            str(workflow.pk),
            str(dataset.pk),
            "--version=1",
            f"--evaluators={evaluators_file(tmp_path)}",
            "--min-pass-rate=0.9",
            stdout=out,
        )

    assert failed.value.returncode == 2
    assert "Pass rate 0.500 is below 0.9" in str(failed.value)
    assert "2/2" in out.getvalue()
    assert "right: mean 0.5" in out.getvalue()


def test_a_pass_rate_at_the_minimum_passes_and_reuses_the_latest_evaluators(
    alice, llm_settings, worker, tmp_path
):
    workflow, dataset = make_workflow(alice), two_row_dataset(alice)
    call_command(
        "evaluate",
        str(workflow.pk),
        str(dataset.pk),
        f"--evaluators={evaluators_file(tmp_path)}",
        stdout=io.StringIO(),
    )
    out = io.StringIO()

    call_command("evaluate", str(workflow.pk), str(dataset.pk), "--min-pass-rate=0.5", stdout=out)

    assert "passed" in out.getvalue()
    assert Experiment.objects.count() == 2
    assert Experiment.objects.latest("created_at").evaluators[0]["name"] == "right"


def test_unknown_ids_and_missing_evaluators_are_errors(alice):
    workflow, dataset = make_workflow(alice), two_row_dataset(alice)

    with pytest.raises(CommandError, match="No workflow"):
        call_command("evaluate", "00000000-0000-0000-0000-000000000000", str(dataset.pk))
    with pytest.raises(CommandError, match="Give --evaluators"):
        call_command("evaluate", str(workflow.pk), str(dataset.pk))
