"""Sub-workflow and Map nodes through the runs app: child runs recorded and linked, versions, recursion and
depth refused, another user's workflow refused like a missing one, caps and cancel reaching children.

Child runs execute on the calling node's thread with a connection of its own, so these tests commit
(transactional_db) like the worker tests do.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from runs.driving import run_execute
from runs.models import ExecutionLog, NodeResult, RunStatus, RunTrigger, WorkflowRun
from runs.selectors import run_children
from runs.services import TooManyActiveRuns, run_cancel, run_create
from tests.factories import WorkflowRunFactory
from tests.fakes.llm_server import prompt_text
from tests.graphs import callable_graph, edge, graph, llm_callee, node, text_to_debug_graph
from tests.waiting import wait_for
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_publish, workflow_update

pytestmark = pytest.mark.django_db(transaction=True)


def _published(owner, name: str, g: dict) -> Workflow:
    return workflow_publish(workflow=workflow_create(owner=owner, name=name, **g))


def _writer(owner, template: str = "Write about {{topic}}") -> Workflow:
    """A published callee: input `topic` (required), `style` (default "plain"), `photo`; output `answer`."""
    return _published(owner, "Writer", callable_graph(template))


def _save_version_2(writer: Workflow, template: str) -> None:
    """The writer's second version: its prompt changed to `template` (not published)."""
    workflow_update(
        workflow=writer,
        name=writer.name,
        description="",
        expected_version=1,
        saved_by=writer.owner,
        **callable_graph(template),
    )


def _calling(callee: Workflow, **data) -> dict:
    """Text "otters" -> Sub-workflow(callee).topic; its `answer` -> Debug."""
    return graph(
        [
            node("topic", "text", text="otters"),
            node("sub", "subworkflow", workflowId=str(callee.pk), **data),
            node("out", "debug"),
        ],
        [edge("topic", "sub", "text", "topic"), edge("sub", "out", "answer", "value")],
    )


def _mapping(callee: Workflow, items: str, **data) -> dict:
    """Text (one item per line) -> Map(callee) -> Debug of `results`, and of `errors`."""
    return graph(
        [
            node("items", "text", text=items),
            node("map", "map", workflowId=str(callee.pk), **data),
            node("results", "debug"),
            node("errors", "debug"),
        ],
        [
            edge("items", "map", "text", "items"),
            edge("map", "results", "results", "value"),
            edge("map", "errors", "errors", "value"),
        ],
    )


def _run(owner, g: dict) -> WorkflowRun:
    run = run_create(owner=owner, graph=g, enqueue=False)
    return run_execute(run_id=str(run.id))


def _output(run: WorkflowRun, node_id: str):
    return NodeResult.objects.get(run=run, node_id=node_id).output


# Running a callee -----------------------------------------------------------------------------------


def test_a_subworkflow_node_runs_its_callee_as_a_linked_child_run_and_outputs_its_outputs(alice) -> None:
    callee = _writer(alice)

    run = _run(alice, _calling(callee))

    assert run.status == RunStatus.SUCCEEDED
    assert _output(run, "out") == {"value": "Write about otters"}
    assert _output(run, "sub") == {"answer": "Write about otters", "style": "plain", "photo": None}
    child = WorkflowRun.objects.get(parent_run=run)
    assert (child.parent_node_id, child.trigger) == ("sub", RunTrigger.SUBWORKFLOW)
    assert child.trigger_ref == str(run.id)
    assert (child.workflow_id, child.workflow_version, child.status) == (callee.pk, 1, RunStatus.SUCCEEDED)
    assert child.inputs == {"topic": "otters"}
    assert NodeResult.objects.filter(run=child, node_id="prompt", status="succeeded").exists()
    messages = list(ExecutionLog.objects.filter(run=run, node_id="sub").values_list("message", flat=True))
    assert messages == [
        f"child run {child.id} of 'Writer' v1 started",
        f"child run {child.id} succeeded",
    ]


def test_the_published_version_runs_unless_the_node_chooses_one(alice) -> None:
    callee = _writer(alice, "v1: {{topic}}")
    _save_version_2(callee, "v2: {{topic}}")

    published = _run(alice, _calling(callee))
    chosen = _run(alice, _calling(callee, version=2))

    assert _output(published, "out") == {"value": "v1: otters"}
    assert _output(chosen, "out") == {"value": "v2: otters"}


def test_executing_a_call_of_an_unpublished_workflow_without_a_version_is_a_400_at_the_node(
    alice, alice_client
) -> None:
    callee = workflow_create(owner=alice, name="Draft", **callable_graph())

    response = alice_client.post("/api/execute", _calling(callee), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "path": "nodes[1].data.version",
            "message": "workflow 'Draft' is not published: publish it or choose a version",
        }
    ]


def test_the_callee_interface_gives_the_node_its_ports_and_a_missing_required_input_is_refused(
    alice, alice_client
) -> None:
    callee = _writer(alice)
    g = _calling(callee)
    g["edges"] = [edge("sub", "out", "answer", "value")]  # topic, which the callee requires, unconnected

    response = alice_client.post("/api/execute", g, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "nodes[1]", "message": "required input 'topic' has no incoming edge"}
    ]


# Map ------------------------------------------------------------------------------------------------


def test_map_runs_each_item_at_most_concurrency_at_once_and_keeps_item_order(alice, llm_settings) -> None:
    callee = _published(alice, "Echo", llm_callee())
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def slow_echo(provider, body):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        # Later items answer sooner, so finishing order is the reverse of item order.
        text = prompt_text(provider, body)
        time.sleep(0.05 + 0.05 * (6 - int(text[-1])))
        with lock:
            in_flight[0] -= 1
        return f"echo: {text}"

    llm_settings.reply = slow_echo

    run = _run(alice, _mapping(callee, "item 1\n\nitem 2\nitem 3\n  \nitem 4\nitem 5\nitem 6", concurrency=2))

    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert most[0] == 2
    assert _output(run, "results") == {"value": [{"answer": f"echo: item {i}"} for i in range(1, 7)]}
    assert _output(run, "errors") == {"value": []}
    children = run_children(run=run)
    assert [(c.parent_node_id, c.parent_item) for c in children] == [("map", i) for i in range(6)]
    assert [c.inputs for c in children.only("inputs")] == [{"item": f"item {i}"} for i in range(1, 7)]


def _json_callee() -> dict:
    """Input `item` -> LLM with a JSON schema (fails on an answer that is not JSON) -> Output `value`."""
    return graph(
        [
            node("item", "input", name="item"),
            node("llm", "llm", jsonSchema={"type": "object"}),
            node("value", "output", name="value"),
        ],
        [edge("item", "llm", "value", "prompt"), edge("llm", "value", "json", "value")],
    )


def _good_or_not(provider, body):
    return json.dumps({"ok": True}) if "good" in prompt_text(provider, body) else "not JSON"


def test_a_failed_item_fails_the_map(alice, llm_settings) -> None:
    callee = _published(alice, "Strict", _json_callee())
    llm_settings.reply = _good_or_not

    run = _run(alice, _mapping(callee, "good\nbad\ngood", concurrency=1))

    assert run.status == RunStatus.FAILED
    result = NodeResult.objects.get(run=run, node_id="map")
    assert result.error_kind == "child_failed"
    assert result.error_message.startswith("item 1: child run ")
    # One at a time: the map stopped taking items after the failure.
    assert WorkflowRun.objects.filter(parent_run=run).count() == 2


def test_with_continue_on_error_a_failed_item_is_null_and_listed(alice, llm_settings) -> None:
    callee = _published(alice, "Strict", _json_callee())
    llm_settings.reply = _good_or_not

    run = _run(alice, _mapping(callee, "good\nbad\ngood", continueOnError=True))

    assert run.status == RunStatus.SUCCEEDED
    assert _output(run, "results") == {"value": [{"value": {"ok": True}}, None, {"value": {"ok": True}}]}
    [error] = _output(run, "errors")["value"]
    assert (error["index"], error["kind"]) == (1, "child_failed")
    # The child run's own error summary: which of its nodes failed and why.
    assert error["message"].startswith("LLM llm failed: the answer did not match the JSON Schema twice")


def test_an_item_whose_child_reuses_an_earlier_childs_results_outputs_them(alice) -> None:
    callee = _writer(alice)

    run = _run(alice, _mapping(callee, "otters\notters", concurrency=1))

    answer = {"answer": "Write about otters", "style": "plain", "photo": None}
    assert _output(run, "results") == {"value": [answer, answer]}
    second = WorkflowRun.objects.get(parent_run=run, parent_item=1)
    assert NodeResult.objects.get(run=second, node_id="answer").status == "reused"


def test_a_map_whose_callee_has_several_required_inputs_must_name_the_item_input(alice, alice_client) -> None:
    callee = _published(
        alice,
        "Pair",
        graph(
            [
                node("a", "input", name="a"),
                node("b", "input", name="b"),
                node("p", "prompt", template="{{a}}{{b}}"),
                node("o", "output", name="o"),
            ],
            [edge("a", "p", "value", "a"), edge("b", "p", "value", "b"), edge("p", "o", "text", "value")],
        ),
    )

    response = alice_client.post("/api/execute", _mapping(callee, "x"), format="json")

    assert response.status_code == 400
    assert {
        "path": "nodes[1].data.itemInput",
        "message": "choose the input that receives each item (the workflow has no single required input)",
    } in response.json()["errors"]


# Refusals -------------------------------------------------------------------------------------------


def _put(client, workflow: Workflow, g: dict):
    body = {"name": workflow.name, "description": "", "version": workflow.version, **g}
    return client.put(f"/api/workflows/{workflow.pk}", body, format="json")


def _caller_of(callee: Workflow) -> dict:
    return graph([node("sub", "subworkflow", workflowId=str(callee.pk))])


def _constant() -> dict:
    """A workflow that needs no input (so a node calling it is ready to run, and can be published)."""
    return graph(
        [node("t", "text", text="x"), node("o", "output", name="o")], [edge("t", "o", "text", "value")]
    )


def test_a_workflow_that_calls_itself_is_refused_on_save_with_the_chain(alice, alice_client) -> None:
    looping = workflow_create(owner=alice, name="Loop", **callable_graph())

    response = _put(alice_client, looping, _caller_of(looping))

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "nodes[0].data.workflowId", "message": "calls itself: Loop → Loop"}
    ]


def test_a_workflow_that_calls_itself_through_another_is_refused_on_save_and_on_execute(
    alice, alice_client
) -> None:
    a = _published(alice, "A", _constant())
    _published(alice, "B", _caller_of(a))
    b = Workflow.objects.get(name="B")

    saved = _put(alice_client, a, _caller_of(b))
    executed = alice_client.post("/api/execute", {"workflowId": str(a.pk), **_caller_of(b)}, format="json")

    for response in (saved, executed):
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"path": "nodes[0].data.workflowId", "message": "calls itself: A → B → A"}
        ]


def test_nesting_deeper_than_the_limit_is_refused_with_the_chain(alice, alice_client, settings) -> None:
    settings.RUN_MAX_SUBWORKFLOW_DEPTH = 2
    w0 = _published(alice, "W0", _constant())
    w1 = _published(alice, "W1", _caller_of(w0))
    w2 = _published(alice, "W2", _caller_of(w1))  # W2 -> W1 -> W0: two levels below W2

    response = alice_client.post("/api/workflows", {"name": "W3", **_caller_of(w2)}, format="json")
    executed = alice_client.post("/api/execute", _caller_of(w2), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "path": "nodes[0].data.workflowId",
            "message": "sub-workflows nest deeper than 2 levels (RUN_MAX_SUBWORKFLOW_DEPTH): "
            "this graph → W2 → W1 → W0",
        }
    ]
    assert executed.status_code == 400
    assert executed.json()["errors"][0]["message"].endswith("this graph → W2 → W1 → W0")


def test_another_users_workflow_is_refused_exactly_like_a_missing_one(alice, bob, alice_client) -> None:
    bobs = _writer(bob)
    missing = uuid.uuid4()

    answers = [
        alice_client.post("/api/execute", _caller_of(target), format="json").json()["errors"]
        for target in (bobs, Workflow(pk=missing))
    ]
    saved = alice_client.post("/api/workflows", {"name": "Thief", **_caller_of(bobs)}, format="json")

    assert answers[0] == [{"path": "nodes[0].data.workflowId", "message": f"no workflow with id '{bobs.pk}'"}]
    assert answers[1] == [{"path": "nodes[0].data.workflowId", "message": f"no workflow with id '{missing}'"}]
    assert saved.status_code == 400
    assert not WorkflowRun.objects.filter(owner=bob).exists()


# Caps, cancel -----------------------------------------------------------------------------------------


def test_the_per_run_llm_call_cap_counts_every_child_runs_calls(alice, llm_settings, settings) -> None:
    settings.RUN_MAX_LLM_CALLS = 2
    callee = _published(alice, "Echo", llm_callee())

    run = _run(alice, _mapping(callee, "1\n2\n3", concurrency=1))

    assert run.status == RunStatus.FAILED
    assert len(llm_settings.requests) == 2
    third = WorkflowRun.objects.filter(parent_run=run).order_by("created_at").last()
    capped = NodeResult.objects.get(run=third, node_id="llm")
    assert (capped.status, capped.error_kind) == ("failed", "cost_cap")
    assert capped.error_message == "LLM call cap of 2 reached"


def test_a_run_starts_at_most_run_max_child_runs_children_in_all(alice, settings) -> None:
    settings.RUN_MAX_CHILD_RUNS = 3
    callee = _writer(alice)

    run = _run(alice, _mapping(callee, "a\nb\nc\nd\ne", concurrency=2, continueOnError=True))

    assert run.status == RunStatus.SUCCEEDED
    assert WorkflowRun.objects.filter(parent_run=run).count() == 3
    results = _output(run, "results")["value"]
    assert [r is None for r in results].count(True) == 2
    errors = _output(run, "errors")["value"]
    assert {e["message"] for e in errors} == {"this run may start at most 3 child runs (RUN_MAX_CHILD_RUNS)"}


def test_the_plan_counts_a_sub_workflows_llm_calls_and_a_maps_per_item(alice, alice_client) -> None:
    echo = _published(alice, "Echo", llm_callee())
    nested = _published(
        alice,
        "Twice",
        graph(
            [
                node("item", "input", name="item"),
                node("first", "subworkflow", workflowId=str(echo.pk)),
                node("second", "llm"),
                node("answer", "output", name="answer"),
            ],
            [
                edge("item", "first", "value", "item"),
                edge("first", "second", "answer", "prompt"),
                edge("second", "answer", "text", "value"),
            ],
        ),
    )
    g = _mapping(nested, "a\nb")
    g["nodes"].append(node("direct", "subworkflow", workflowId=str(echo.pk)))
    g["edges"].append(edge("items", "direct", "text", "item"))

    body = alice_client.post("/api/execute/plan", g, format="json").json()

    assert (body["llmCalls"], body["llmCallsPerItem"]) == (1, {"map": 2})


def test_cancelling_the_parent_cancels_its_running_child(alice, llm_settings) -> None:
    llm_settings.latency_s = 60  # the child's call only ends by being cut off
    callee = _published(alice, "Echo", llm_callee())
    g = graph(
        [node("q", "text", text="hi"), node("sub", "subworkflow", workflowId=str(callee.pk))],
        [edge("q", "sub", "text", "item")],
    )
    run = run_create(owner=alice, graph=g, enqueue=False)
    worker = threading.Thread(target=run_execute, kwargs={"run_id": str(run.id)})
    worker.start()
    try:
        child = wait_for(lambda: llm_settings.requests and WorkflowRun.objects.filter(parent_run=run).first())
        run_cancel(run=WorkflowRun.objects.get(pk=run.pk))
        worker.join(timeout=15)
        # The parent's engine returns at once; the child notices on its next poll (every 0.1 s).
        wait_for(lambda: WorkflowRun.objects.get(pk=child.pk).is_finished, timeout=15)
    finally:
        llm_settings.reset()
        worker.join()

    run.refresh_from_db()
    child.refresh_from_db()
    assert (run.status, child.status) == (RunStatus.CANCELLED, RunStatus.CANCELLED)
    assert NodeResult.objects.get(run=child, node_id="llm").status == "cancelled"


# The API ---------------------------------------------------------------------------------------------


def test_the_run_detail_lists_child_runs_and_the_child_names_its_parent(
    alice, alice_client, bob_client, llm_settings, django_assert_max_num_queries
) -> None:
    callee = _published(alice, "Echo", llm_callee())
    run = _run(alice, _mapping(callee, "a\nb"))
    children = list(WorkflowRun.objects.filter(parent_run=run).order_by("parent_item"))

    parent_body = alice_client.get(f"/api/runs/{run.id}").json()
    child_body = alice_client.get(f"/api/runs/{children[0].id}").json()

    assert [(c["id"], c["nodeId"], c["item"], c["status"]) for c in parent_body["childRuns"]] == [
        (str(c.id), "map", i, "succeeded") for i, c in enumerate(children)
    ]
    assert (parent_body["parentRunId"], child_body["parentRunId"]) == (None, str(run.id))
    assert (child_body["parentNodeId"], child_body["trigger"]) == ("map", "subworkflow")
    assert bob_client.get(f"/api/runs/{children[0].id}").status_code == 404
    # The list shows child runs, marked with their parent, in the same number of queries as before.
    with django_assert_max_num_queries(4):
        listed = alice_client.get("/api/runs").json()["results"]
    assert {r["id"]: r["parentRunId"] for r in listed} == {
        str(run.id): None,
        **{str(c.id): str(run.id) for c in children},
    }


# Reuse ------------------------------------------------------------------------------------------------


def test_a_subworkflow_node_is_reused_when_its_pure_callee_and_inputs_are_unchanged(alice) -> None:
    callee = _writer(alice)
    first = _run(alice, _calling(callee))

    second = _run(alice, _calling(callee))

    reused = NodeResult.objects.get(run=second, node_id="sub")
    assert (reused.status, reused.reused_from_id) == (
        "reused",
        NodeResult.objects.get(run=first, node_id="sub").pk,
    )
    assert not WorkflowRun.objects.filter(parent_run=second).exists()


def test_a_changed_callee_changes_the_key_so_the_node_runs_again(alice) -> None:
    callee = _writer(alice, "v1: {{topic}}")
    first = _run(alice, _calling(callee, version=1))
    _save_version_2(callee, "v2: {{topic}}")

    second = _run(alice, _calling(callee, version=2))

    keys = [NodeResult.objects.get(run=r, node_id="sub").content_key for r in (first, second)]
    assert keys[0] != keys[1]
    assert _output(second, "out") == {"value": "v2: otters"}


def test_a_callee_with_a_model_above_temperature_zero_is_never_reused_under_auto(alice, llm_settings) -> None:
    callee = _published(alice, "Echo", llm_callee())
    g = graph(
        [node("q", "text", text="hi"), node("sub", "subworkflow", workflowId=str(callee.pk))],
        [edge("q", "sub", "text", "item")],
    )
    _run(alice, g)

    second = _run(alice, g)

    assert NodeResult.objects.get(run=second, node_id="sub").status == "succeeded"
    assert WorkflowRun.objects.filter(parent_run=second).count() == 1
    assert len(llm_settings.requests) == 2


# Budgets and the saved graph ----------------------------------------------------------------------------


def test_the_daily_budget_counts_child_runs_calls(alice, llm_settings, settings) -> None:
    callee = _published(alice, "Echo", llm_callee())
    _run(alice, _mapping(callee, "one"))  # spends some of today's tokens inside a child run
    spent = sum(r.input_tokens + r.output_tokens for r in NodeResult.objects.filter(node_id="llm"))
    settings.RUN_DAILY_TOKEN_BUDGET = spent + 10  # less than another call may use

    run = _run(alice, _mapping(callee, "two"))

    assert run.status == RunStatus.FAILED
    child = WorkflowRun.objects.get(parent_run=run)
    refused = NodeResult.objects.get(run=child, node_id="llm")
    assert (refused.status, refused.error_kind) == ("failed", "budget")
    assert len(llm_settings.requests) == 1


def test_a_saved_caller_node_carries_its_callee_interface_for_the_editor(alice, alice_client) -> None:
    callee = _writer(alice)

    response = alice_client.post("/api/workflows", {"name": "Caller", **_calling(callee)}, format="json")

    assert response.status_code == 201
    saved = response.json()["nodes"][1]["data"]["callee"]
    assert (saved["workflowId"], saved["version"], saved["name"]) == (str(callee.pk), 1, "Writer")
    assert saved["interface"] == {
        "inputs": [
            {"name": "topic", "type": "text", "required": True},
            {"name": "style", "type": "text", "required": False},
            {"name": "photo", "type": "image", "required": False},
        ],
        "outputs": [{"name": "answer"}, {"name": "style"}, {"name": "photo"}],
    }


# Nesting, events, the active-run cap -------------------------------------------------------------------


def test_sub_workflows_nest_each_child_run_linked_to_the_run_that_started_it(alice) -> None:
    inner = _writer(alice)
    middle = _published(
        alice,
        "Middle",
        graph(
            [
                node("topic", "input", name="topic"),
                node("sub", "subworkflow", workflowId=str(inner.pk)),
                node("out", "output", name="answer"),
            ],
            [edge("topic", "sub", "value", "topic"), edge("sub", "out", "answer", "value")],
        ),
    )

    run = _run(alice, _calling(middle))

    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert _output(run, "out") == {"value": "Write about otters"}
    child = WorkflowRun.objects.get(parent_run=run)
    grandchild = WorkflowRun.objects.get(parent_run=child)
    assert (child.workflow_id, grandchild.workflow_id) == (middle.pk, inner.pk)


def test_the_parents_event_stream_tells_the_child_runs_progress(alice) -> None:
    callee = _writer(alice)
    run = run_create(owner=alice, graph=_calling(callee), enqueue=False)
    events = []

    run_execute(run_id=str(run.id), listener=events.append)

    child = WorkflowRun.objects.get(parent_run=run)
    about_sub = [
        type(e).__name__ + (f": {e.message}" if hasattr(e, "message") else "")
        for e in events
        if getattr(e, "node_id", None) == "sub"
        or getattr(getattr(e, "result", None), "node_id", None) == "sub"
    ]
    assert about_sub == [
        "NodeStarted",
        f"LogLine: child run {child.id} of 'Writer' v1 started",
        f"LogLine: child run {child.id} succeeded",
        "NodeFinished",
    ]


def test_child_runs_hold_no_place_under_the_active_run_cap(alice, settings) -> None:
    settings.RUN_MAX_ACTIVE_PER_USER = 2
    parent = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    WorkflowRunFactory.create_batch(3, owner=alice, status=RunStatus.RUNNING, parent_run=parent)

    second = run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)

    assert second.status == RunStatus.QUEUED
    with pytest.raises(TooManyActiveRuns):
        run_create(owner=alice, graph=text_to_debug_graph(), enqueue=False)


@pytest.mark.services
def test_a_subworkflow_node_rides_out_its_connection_being_cut(alice) -> None:
    """What a database restart does to a Sub-workflow node: its query is cut mid-flight. The node reconnects
    and starts its child run, instead of failing the run. (The query is held on a table lock so that the cut
    lands while it waits.)"""
    import psycopg
    from django.db import connection

    import engine

    if connection.vendor != "postgresql":
        pytest.skip("terminating a backend is a PostgreSQL operation")
    echo = graph(
        [node("item", "input", name="item"), node("answer", "output", name="answer")],
        [edge("item", "answer", "value", "value")],
    )
    callee = _published(alice, "Echo", echo)
    calling = graph(
        [
            node("topic", "text", text="otters"),
            node("sub", "subworkflow", workflowId=str(callee.pk)),
            node("out", "debug"),
        ],
        [edge("topic", "sub", "text", "item"), edge("sub", "out", "answer", "value")],
    )
    run = run_create(owner=alice, graph=calling, enqueue=False)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    admin = psycopg.connect(**params)
    cut: list[int] = []

    def cut_the_waiting_query() -> None:
        waiting = (
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database() "
            "AND l.relation = 'workflows_workflowversion'::regclass"
        )
        with psycopg.connect(**params, autocommit=True) as killer:
            pid = wait_for(lambda: killer.execute(waiting).fetchone(), timeout=10)[0]
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            cut.append(pid)
        admin.rollback()  # the lock goes: the reconnected query runs

    def hold_the_callee_table(event: engine.Event) -> None:
        if isinstance(event, engine.NodeStarted) and event.node_id == "sub":
            admin.execute("LOCK TABLE workflows_workflowversion IN ACCESS EXCLUSIVE MODE")
            threading.Thread(target=cut_the_waiting_query).start()

    try:
        finished = run_execute(run_id=str(run.id), listener=hold_the_callee_table)
    finally:
        admin.close()

    assert cut
    assert (finished.status, finished.recoveries) == (RunStatus.SUCCEEDED, 0), finished.error_summary
    assert _output(finished, "out") == {"value": "otters"}
