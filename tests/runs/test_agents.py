"""Agent nodes through the runs app: a workflow tool runs as a linked child run, the tool events reach the
live stream, another user's workflow as a tool is refused exactly like a missing one.

Child runs execute on the calling thread with a connection of their own, so these tests commit
(transactional_db) like the Sub-workflow tests do.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from runs.driving import run_execute
from runs.events import run_event_bus
from runs.models import NodeResult, RunStatus, WorkflowRun
from runs.services import run_cancel, run_create
from tests.graphs import callable_graph, graph, llm_callee, node
from tests.waiting import wait_for
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)


def _writer(owner) -> Workflow:
    return workflow_publish(workflow=workflow_create(owner=owner, name="Writer", **callable_graph()))


def _agent_calling(workflow_id: object, prompt: str = '[[call write {"topic": "otters"}]]') -> dict:
    tool = {"name": "write", "description": "Writes", "type": "workflow", "workflowId": str(workflow_id)}
    return graph([node("agent", "agent", prompt=prompt, tools=[tool])], [])


def test_a_workflow_tool_runs_as_a_child_run_linked_to_the_agent(alice, llm_settings) -> None:
    writer = _writer(alice)
    run = run_create(owner=alice, graph=_agent_calling(writer.pk), enqueue=False)

    run = run_execute(run_id=str(run.id))

    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    child = WorkflowRun.objects.get(parent_run=run)
    assert (child.parent_node_id, child.workflow_id, child.status) == (
        "agent",
        writer.pk,
        RunStatus.SUCCEEDED,
    )
    assert child.inputs == {"topic": "otters"}
    output = NodeResult.objects.get(run=run, node_id="agent").output
    [tool_step] = [step for step in output["transcript"] if step["type"] == "tool"]
    assert tool_step["childRunId"] == str(child.id)
    assert tool_step["result"] == {"answer": "Write about otters", "style": "plain", "photo": None}
    offered = llm_settings.requests[0].body["tools"][0]["functionDeclarations"][0]
    assert offered["parameters_json_schema"]["required"] == ["topic"]


def test_the_tool_calls_are_published_as_live_events(alice, llm_settings) -> None:
    run = run_create(owner=alice, graph=_agent_calling(_writer(alice).pk), enqueue=False)

    run_execute(run_id=str(run.id))

    published = asyncio.run(run_event_bus().read(str(run.id), after=None)).events
    calls = [event.data for event in published if event.type == "tool_call"]
    results = [event.data for event in published if event.type == "tool_result"]
    assert calls == [
        {"nodeId": "agent", "callId": "call_1", "tool": "write", "arguments": '{"topic":"otters"}'}
    ]
    assert results[0]["childRunId"] == str(WorkflowRun.objects.get(parent_run=run).id)
    assert results[0]["isError"] is False
    assert results[0]["result"].startswith('{"answer":"Write about otters"')


def test_cancelling_the_run_during_a_workflow_tool_cancels_its_child_run(
    alice, llm_settings, settings
) -> None:
    # The agent talks to Groq; the child's LLM node to Gemini, whose answer never comes.
    settings.GROQ_API_KEY = "fake-groq-key"
    settings.GROQ_BASE_URL = llm_settings.url
    llm_settings.fail_next("gemini", status="hang")
    echo = workflow_publish(workflow=workflow_create(owner=alice, name="Echo", **llm_callee()))
    tool = {"name": "echo", "description": "Echoes", "type": "workflow", "workflowId": str(echo.pk)}
    prompt = '[[call echo {"item": "hi"}]]'
    g = graph([node("agent", "agent", prompt=prompt, tools=[tool], models=["groq/fake-chat"])], [])
    run = run_create(owner=alice, graph=g, enqueue=False)
    worker = threading.Thread(target=run_execute, kwargs={"run_id": str(run.id)})
    worker.start()
    try:
        child = wait_for(lambda: llm_settings.hanging and WorkflowRun.objects.filter(parent_run=run).first())
        run_cancel(run=WorkflowRun.objects.get(pk=run.pk))
        worker.join(timeout=15)
        wait_for(lambda: WorkflowRun.objects.get(pk=child.pk).is_finished, timeout=15)
        asked = [r.provider for r in llm_settings.requests]
    finally:
        llm_settings.reset()
        worker.join()

    run.refresh_from_db()
    child.refresh_from_db()
    assert (run.status, child.status) == (RunStatus.CANCELLED, RunStatus.CANCELLED)
    assert asked == ["groq", "gemini"]  # the agent's first call and the child's; the agent asked nothing more


def test_another_users_workflow_as_a_tool_is_refused_exactly_like_a_missing_one(
    alice, bob, alice_client
) -> None:
    bobs = _writer(bob)
    missing = uuid.uuid4()

    answers = [
        alice_client.post("/api/execute", _agent_calling(target), format="json").json()["errors"]
        for target in (bobs.pk, missing)
    ]

    assert answers[0] == [
        {"path": "nodes[0].data.tools[0].workflowId", "message": f"no workflow with id '{bobs.pk}'"}
    ]
    assert answers[1] == [
        {"path": "nodes[0].data.tools[0].workflowId", "message": f"no workflow with id '{missing}'"}
    ]
    assert not WorkflowRun.objects.filter(owner=bob).exists()
