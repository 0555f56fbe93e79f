"""Helpers of the experiments' tests: a small two-LLM workflow, its versions, waiting for an experiment."""

from __future__ import annotations

from evaluations.models import Experiment, ExperimentStatus
from tests.graphs import edge, graph, node
from tests.waiting import wait_for
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_update


def two_llm_graph(second_template: str = "Answer: {{topic}}") -> dict[str, list]:
    """Input `topic` feeds LLM `first` (output `summary`) and, through a Prompt, LLM `second` (output
    `answer`); both at temperature 0, so reusable by content key."""
    return graph(
        [
            node("topic", "input", name="topic", type="text"),
            node("first", "llm", temperature=0),
            node("summary", "output", name="summary"),
            node("prompt", "prompt", template=second_template),
            node("second", "llm", temperature=0),
            node("answer", "output", name="answer"),
        ],
        [
            edge("topic", "first", "value", "prompt"),
            edge("first", "summary", "text", "value"),
            edge("topic", "prompt", "value", "topic"),
            edge("prompt", "second", "text", "prompt"),
            edge("second", "answer", "text", "value"),
        ],
    )


def make_workflow(owner, **graph_options) -> Workflow:
    return workflow_create(owner=owner, name="Answers", **two_llm_graph(**graph_options))


def save_version(workflow: Workflow, owner, **graph_options) -> Workflow:
    workflow.refresh_from_db()
    return workflow_update(
        workflow=workflow,
        name=workflow.name,
        description="",
        expected_version=workflow.version,
        saved_by=owner,
        **two_llm_graph(**graph_options),
    )


def wait_finished(experiment_id: str, timeout: float = 30) -> Experiment:
    return wait_for(
        lambda: (
            Experiment.objects.filter(pk=experiment_id).exclude(status=ExperimentStatus.RUNNING).first()
            if not Experiment.objects.filter(
                pk=experiment_id, items__status__in=("pending", "running")
            ).exists()
            else None
        ),
        timeout=timeout,
    )
