"""An Agent's tool calls that need a person, through the runs app: the run waits with one Approval per call
(in the inbox, on the run's detail), the agent's checkpoint is stored with them, and once decided the run goes
on without repeating a model call (counted at the fake LLM server) or a tool call (a workflow tool's child
runs, counted in the database).

Child runs execute on the calling thread with a connection of their own, so these tests commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from runs.driving import run_execute
from runs.events import run_event_bus
from runs.models import Approval, NodeResult, RunStatus, WorkflowRun
from runs.recovery import runs_recover_stale
from runs.services import run_create
from tests.graphs import callable_graph, graph, node
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)

ONE_CALL = '[[call write {"topic": "otters"}]]'


def waiting_agent(owner, prompt: str = ONE_CALL, **terms: object) -> WorkflowRun:
    """A run of an Agent whose workflow tool `write` needs approval, executed until it waits."""
    writer = workflow_publish(workflow=workflow_create(owner=owner, name="Writer", **callable_graph()))
    tool = {
        "name": "write",
        "type": "workflow",
        "workflowId": str(writer.pk),
        "requiresApproval": True,
        **terms,
    }
    agent = node("agent", "agent", prompt=prompt, tools=[tool], maxIterations=terms.pop("maxIterations", 10))
    run = run_create(owner=owner, graph=graph([agent], []), enqueue=False)
    run = run_execute(run_id=str(run.id))
    assert run.status == RunStatus.WAITING, run.error_summary
    return run


def decide(client, run: WorkflowRun, call_id: str, decision: str, comment: str = "") -> object:
    """As the run page and the inbox post it: the approval's id `agent/<call id>` encoded as one segment."""
    body = {"decision": decision, "comment": comment}
    approval_id = quote(f"agent/{call_id}", safe="")
    return client.post(f"/api/runs/{run.id}/approvals/{approval_id}", body, format="json")


def tool_calls_made(run: WorkflowRun) -> int:
    return WorkflowRun.objects.filter(parent_run=run).count()


def agent_result(run: WorkflowRun) -> NodeResult:
    return NodeResult.objects.get(run=run, node_id="agent")


def test_an_approved_call_is_made_once_and_no_model_call_is_repeated(
    alice, alice_client, llm_settings, broker
) -> None:
    run = waiting_agent(alice)

    assert len(llm_settings.requests) == 1
    assert tool_calls_made(run) == 0
    assert not NodeResult.objects.filter(run=run, node_id="agent").exists()
    [asked] = alice_client.get("/api/approvals").json()["results"]
    assert (asked["runId"], asked["nodeId"], asked["subject"]) == (
        str(run.id),
        "agent/call_1",
        {"tool": "write", "arguments": {"topic": "otters"}},
    )
    assert "wants to call the tool write" in asked["instructions"]
    assert "checkpoint" not in asked
    [on_detail] = alice_client.get(f"/api/runs/{run.id}").json()["approvals"]
    assert on_detail["nodeId"] == "agent/call_1"
    assert Approval.objects.get(run=run).checkpoint["iterations"] == 1

    assert decide(alice_client, run, "call_1", "approve").status_code == 202
    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED, finished.error_summary
    assert len(llm_settings.requests) == 2
    assert tool_calls_made(run) == 1
    steps = agent_result(run).output["transcript"]
    assert [s["type"] for s in steps] == ["model", "approval", "tool", "model"]
    assert (steps[1]["decision"], steps[1]["who"]) == ("approve", "alice@example.com")
    assert steps[2]["childRunId"] == str(WorkflowRun.objects.get(parent_run=run).id)
    assert agent_result(run).input_tokens == sum(s.get("inputTokens", 0) for s in steps)


def test_a_rejected_call_is_not_made_and_the_model_reads_who_rejected_it(
    alice, alice_client, llm_settings, broker
) -> None:
    run = waiting_agent(alice)

    decide(alice_client, run, "call_1", "reject", "not today")
    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert tool_calls_made(run) == 0
    [answer] = llm_settings.requests[1].body["contents"][-1]["parts"]
    assert "rejected by alice@example.com: not today" in str(answer["functionResponse"]["response"])


def test_a_timed_out_call_fails_the_agent_when_its_tool_says_so(alice, llm_settings, broker) -> None:
    run = waiting_agent(alice, onTimeout="fail", approvalTimeoutSeconds=60)
    approval = Approval.objects.get(run=run)
    assert approval.deadline - approval.requested_at == timedelta(seconds=60)
    Approval.objects.filter(run=run).update(deadline=timezone.now() - timedelta(seconds=1))

    assert runs_recover_stale().timed_out == 1
    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.FAILED
    result = agent_result(run)
    assert result.error_kind == "approval_timeout"
    assert [s["type"] for s in result.output["transcript"]] == ["model", "approval"]
    assert (len(llm_settings.requests), tool_calls_made(run)) == (1, 0)


def test_two_calls_of_one_turn_are_two_approvals_and_the_run_waits_until_both_are_decided(
    alice, alice_client, llm_settings, broker
) -> None:
    prompt = '[[call write {"topic": "otters"}]] [[call write {"topic": "owls"}]]'
    run = waiting_agent(alice, prompt=prompt)
    assert sorted(Approval.objects.filter(run=run).values_list("node_id", flat=True)) == [
        "agent/call_1",
        "agent/call_2",
    ]

    decide(alice_client, run, "call_2", "approve")
    again = run_execute(run_id=str(run.id))
    assert again.status == RunStatus.WAITING
    assert Approval.objects.filter(run=run).count() == 2  # the undecided one is not asked twice
    assert (len(llm_settings.requests), tool_calls_made(run)) == (1, 0)

    decide(alice_client, run, "call_1", "reject")
    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert (len(llm_settings.requests), tool_calls_made(run)) == (2, 1)
    assert WorkflowRun.objects.get(parent_run=run).inputs == {"topic": "owls"}


def test_the_agent_s_limits_go_on_from_the_checkpoint_exactly(
    alice, alice_client, llm_settings, broker
) -> None:
    run = waiting_agent(alice, prompt='[[always write {"topic": "otters"}]]', maxIterations=2)

    decide(alice_client, run, "call_1", "approve")
    assert run_execute(run_id=str(run.id)).status == RunStatus.WAITING
    decide(alice_client, run, "call_2", "approve")
    finished = run_execute(run_id=str(run.id))

    assert finished.status == RunStatus.FAILED
    assert agent_result(run).error_kind == "agent_limit"
    assert (len(llm_settings.requests), tool_calls_made(run)) == (2, 2)  # none beyond, none twice


def test_cancelling_a_waiting_agent_closes_its_approval_and_another_user_cannot_decide(
    alice, alice_client, bob_client, llm_settings, broker
) -> None:
    run = waiting_agent(alice)

    assert decide(bob_client, run, "call_1", "approve").status_code == 404
    unencoded = f"/api/runs/{run.id}/approvals/agent/call_1"
    assert bob_client.post(unencoded, {"decision": "approve"}, format="json").status_code == 404
    assert bob_client.get("/api/approvals").json()["count"] == 0
    assert alice_client.post(f"/api/runs/{run.id}/cancel").status_code == 202

    assert WorkflowRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED
    assert decide(alice_client, run, "call_1", "approve").status_code == 409
    assert tool_calls_made(run) == 0


def test_the_waiting_call_is_published_as_a_step_of_the_agent(alice, llm_settings, broker) -> None:
    run = waiting_agent(alice)

    published = asyncio.run(run_event_bus().read(str(run.id), after=None)).events
    [asked] = [event.data for event in published if event.type == "approval_requested"]
    assert asked["nodeId"] == "agent"
    assert (asked["approvalId"], asked["callId"], asked["tool"]) == ("agent/call_1", "call_1", "write")
    assert asked["arguments"] == '{"topic":"otters"}'
