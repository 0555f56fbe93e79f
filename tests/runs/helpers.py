"""Steps the runs tests share: a run that waits for an approval."""

from __future__ import annotations

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
