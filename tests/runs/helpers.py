"""Steps the runs tests share: a run that waits for an approval; reading GET /metrics (the samples of one
scrape, by name and labels)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from runs.driving import run_execute
from runs.models import RunStatus, WorkflowRun
from runs.services import run_create
from tests.graphs import edge, graph, node


def review_flow() -> dict[str, list]:
    """Text -> LLM `draft` -> Approval `review` -> LLM `publish` (approved) / Debug `redo` (rejected); beside
    it, Text -> LLM `side`."""
    return graph(
        [
            node("in", "text", text="write a post"),
            node("draft", "llm"),
            node("review", "approval", instructions="Publish {{subject}}?"),
            node("publish", "llm"),
            node("redo", "debug"),
            node("side", "llm"),
        ],
        [
            edge("in", "draft", "text", "prompt"),
            edge("draft", "review", "text", "subject"),
            edge("review", "publish", "approved", "prompt"),
            edge("review", "redo", "rejected", "value"),
            edge("in", "side", "text", "prompt"),
        ],
    )


def waiting_run(owner) -> WorkflowRun:
    run = run_create(owner=owner, graph=review_flow(), enqueue=False)
    waited = run_execute(run_id=str(run.id))
    assert waited.status == RunStatus.WAITING
    return waited


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client, token: str) -> list[Sample]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content[:300]
    text = response.content.decode()
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def by_key(samples: list[Sample]) -> Samples:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value for sample in samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)
