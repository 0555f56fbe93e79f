"""Content-keyed reuse: what a run takes from earlier runs, and only when its content key matches."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from runs.driving import run_execute
from runs.models import NodeResult, RunScope, RunStatus, WorkflowRun
from runs.services import RunStillActive, run_create, run_plan, run_resume
from tests.factories import WorkflowFactory, WorkflowRunFactory
from tests.fakes.llm_server import prompt_text
from tests.graphs import callable_graph, edge, node
from uploads.services import upload_create

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, format="PNG")
    return out.getvalue()


def prompts(server) -> list[str]:
    return [prompt_text(r.provider, r.body) for r in server.requests]


def text_to_llm(text: str, **llm_data) -> dict[str, list]:
    return {
        "nodes": [node("a", "text", text=text), node("b", "llm", **llm_data)],
        "edges": [edge("a", "b", "text", "prompt")],
    }


def execute(owner, graph, **options) -> WorkflowRun:
    run = run_create(owner=owner, graph=graph, enqueue=False, **options)
    return run_execute(run_id=str(run.id))


def test_running_one_node_after_an_edit_uses_the_edited_upstream_text(alice, llm_settings):
    workflow = WorkflowFactory(owner=alice, **text_to_llm("OLD"))
    execute(alice, workflow.graph, workflow=workflow)
    workflow.nodes = text_to_llm("NEW")["nodes"]
    workflow.save()

    finished = execute(alice, workflow.graph, workflow=workflow, scope=RunScope.NODE, node_ids=["b"])

    assert finished.status == RunStatus.SUCCEEDED
    assert prompts(llm_settings) == ["OLD", "NEW"]
    assert NodeResult.objects.get(run=finished, node_id="b").output == {"text": "echo: NEW"}


def chain(*temperatures: float, text: str = "hello") -> dict[str, list]:
    """Text `a` feeding a chain of LLM nodes `b`, `c`... with these temperatures."""
    nodes = [node("a", "text", text=text)]
    edges = []
    for i, temperature in enumerate(temperatures, start=1):
        node_id, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        nodes.append(node(node_id, "llm", temperature=temperature))
        edges.append(edge(previous, node_id, "text", "prompt"))
    return {"nodes": nodes, "edges": edges}


def statuses(run: WorkflowRun) -> dict[str, str]:
    return dict(NodeResult.objects.filter(run=run).values_list("node_id", "status"))


def test_an_unchanged_rerun_makes_no_llm_call_and_links_each_result_to_its_original(alice, llm_settings):
    graph = chain(0, 0)
    first = execute(alice, graph)
    calls = len(llm_settings.requests)

    second = execute(alice, graph)

    assert calls == 2
    assert len(llm_settings.requests) == calls
    assert second.status == RunStatus.SUCCEEDED
    assert statuses(second) == {"a": "reused", "b": "reused", "c": "reused"}
    assert (second.reused_nodes, second.succeeded_nodes, second.input_tokens, second.cost) == (3, 0, 0, 0)
    reused = NodeResult.objects.get(run=second, node_id="c")
    original = NodeResult.objects.get(run=first, node_id="c")
    assert reused.reused_from == original
    assert reused.output == original.output == {"text": "echo: echo: hello"}
    assert (reused.input_tokens, reused.output_tokens, reused.cost) == (0, 0, 0)
    assert reused.content_key == original.content_key


def test_editing_one_node_reexecutes_exactly_it_and_its_descendants(alice, llm_settings):
    graph = chain(0, 0)
    graph["nodes"] += [node("x", "text", text="left alone"), node("y", "llm", temperature=0)]
    graph["edges"].append(edge("x", "y", "text", "prompt"))
    execute(alice, graph)
    llm_settings.reset()
    graph["nodes"][1]["data"]["systemPrompt"] = "Be brief."  # b changes; c follows it

    run = execute(alice, graph)

    assert statuses(run) == {"a": "reused", "b": "succeeded", "c": "succeeded", "x": "reused", "y": "reused"}
    assert prompts(llm_settings) == ["hello", "echo: hello"]


def test_a_label_change_is_not_an_edit(alice, llm_settings):
    graph = chain(0)
    execute(alice, graph)
    graph["nodes"][1]["data"]["label"] = "Renamed"

    run = execute(alice, graph)

    assert statuses(run) == {"a": "reused", "b": "reused"}
    assert len(llm_settings.requests) == 1


def test_an_llm_above_temperature_zero_runs_again_and_so_does_what_it_feeds(alice, llm_settings):
    graph = chain(0.7, 0)
    execute(alice, graph)

    run = execute(alice, graph)

    # c is reusable, but its input is a new sample from b, so it must see that sample.
    assert statuses(run) == {"a": "reused", "b": "succeeded", "c": "succeeded"}
    assert len(llm_settings.requests) == 4


def test_a_pinned_llm_reuses_its_last_result_whatever_its_temperature(alice, llm_settings):
    graph = chain(0.7)
    execute(alice, graph)
    graph["nodes"][1]["data"]["pin"] = True

    run = execute(alice, graph)

    assert statuses(run) == {"a": "reused", "b": "reused"}
    assert len(llm_settings.requests) == 1


def test_reuse_none_runs_everything_and_reuse_all_reuses_any_match(alice, llm_settings):
    graph = chain(0.7)
    execute(alice, graph)

    everything = execute(alice, graph, reuse="none")
    nothing = execute(alice, graph, reuse="all")

    assert statuses(everything) == {"a": "succeeded", "b": "succeeded"}
    assert statuses(nothing) == {"a": "reused", "b": "reused"}
    assert len(llm_settings.requests) == 2
    # `all` takes the newest matching result.
    latest = NodeResult.objects.get(run=everything, node_id="b")
    assert NodeResult.objects.get(run=nothing, node_id="b").reused_from == latest


def test_another_users_results_are_never_reused(alice, bob, llm_settings):
    execute(bob, chain(0))

    run = execute(alice, chain(0))

    assert statuses(run) == {"a": "succeeded", "b": "succeeded"}
    assert len(llm_settings.requests) == 2


def test_a_node_run_reuses_unchanged_upstream_and_runs_the_node_itself(alice, llm_settings):
    workflow = WorkflowFactory(owner=alice, **chain(0, 0))
    execute(alice, workflow.graph, workflow=workflow)

    run = execute(alice, workflow.graph, workflow=workflow, scope=RunScope.NODE, node_ids=["c"])

    assert statuses(run) == {"b": "reused", "c": "succeeded"}
    assert prompts(llm_settings) == ["hello", "echo: hello", "echo: hello"]
    assert run.total_nodes == 2


def test_a_node_run_without_matching_results_runs_what_it_needs(alice, llm_settings):
    run = execute(alice, chain(0, 0), scope=RunScope.NODE, node_ids=["c"])

    assert statuses(run) == {"a": "succeeded", "b": "succeeded", "c": "succeeded"}


def test_a_run_from_a_node_runs_it_and_everything_downstream(alice, llm_settings):
    graph = chain(0, 0, 0)
    execute(alice, graph)
    llm_settings.reset()

    run = execute(alice, graph, scope=RunScope.FROM, node_ids=["c"])

    assert statuses(run) == {"b": "reused", "c": "succeeded", "d": "succeeded"}
    assert prompts(llm_settings) == ["echo: hello", "echo: echo: hello"]


def test_resume_runs_only_what_did_not_succeed_even_above_temperature_zero(alice, llm_settings, settings):
    settings.RUN_MAX_LLM_CALLS = 1
    failed = execute(alice, chain(0.7, 0.7))
    assert statuses(failed) == {"a": "succeeded", "b": "succeeded", "c": "failed"}
    settings.RUN_MAX_LLM_CALLS = 10

    resumed = run_resume(run=failed)
    finished = run_execute(run_id=str(resumed.id))

    assert finished.status == RunStatus.SUCCEEDED
    assert finished.resumed_from_id == failed.id
    assert statuses(finished) == {"a": "reused", "b": "reused", "c": "succeeded"}
    assert prompts(llm_settings) == ["hello", "echo: hello"]


def test_resume_of_a_run_still_running_is_refused(alice):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)

    with pytest.raises(RunStillActive):
        run_resume(run=run)


# Vision nodes read the upload on a worker thread, through its own connection: the rows must be committed.
@pytest.mark.django_db(transaction=True)
def test_a_new_upload_of_the_same_picture_keeps_the_nodes_it_feeds_reusable(
    alice, llm_settings, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    picture = png((32, 16))
    first, second = (upload_create(owner=alice, data=picture) for _ in range(2))
    other = upload_create(owner=alice, data=png((8, 8)))

    def graph(upload) -> dict[str, list]:
        return {
            "nodes": [node("i", "image", uploadId=str(upload.id)), node("v", "vision", temperature=0)],
            "edges": [edge("i", "v", "image", "image")],
        }

    execute(alice, graph(first))
    again = execute(alice, graph(second))
    changed = execute(alice, graph(other))

    assert first.digest == second.digest != other.digest
    assert statuses(again) == {"i": "succeeded", "v": "reused"}
    assert statuses(changed) == {"i": "succeeded", "v": "succeeded"}
    assert len(llm_settings.requests) == 2


def test_an_image_given_by_url_makes_what_it_feeds_never_reused(alice):
    graph = {
        "nodes": [node("i", "image", url="https://example.com/cat.png"), node("v", "vision", temperature=0)],
        "edges": [edge("i", "v", "image", "image")],
    }

    plan, _ = run_plan(owner=alice, graph=graph)

    assert plan.nodes["i"].key is not None
    assert plan.nodes["v"].key is None


# The API ------------------------------------------------------------------------------------


def test_execute_takes_reuse_and_refuses_unknown_values(alice, alice_client):
    accepted = alice_client.post("/api/execute", {**chain(0), "reuse": "none"}, format="json")
    refused = alice_client.post("/api/execute", {**chain(0), "reuse": "sometimes"}, format="json")

    assert WorkflowRun.objects.get(pk=accepted.json()["runId"]).reuse == "none"
    assert refused.status_code == 400
    assert [e["path"] for e in refused.json()["errors"]] == ["reuse"]


@pytest.mark.parametrize("node_ids", [[], ["a", "b"]])
def test_a_run_from_a_node_needs_exactly_one_node(alice_client, node_ids):
    response = alice_client.post(
        "/api/execute", {**chain(0), "scope": "from", "nodeIds": node_ids}, format="json"
    )

    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["nodeIds"]


def test_the_plan_says_each_nodes_fate_and_the_llm_calls_without_running_anything(
    alice, alice_client, llm_settings, django_assert_max_num_queries
):
    graph = chain(0, 0.7)
    first = execute(alice, graph)
    runs = WorkflowRun.objects.count()

    with django_assert_max_num_queries(6):
        body = alice_client.post("/api/execute/plan", {**graph, "reuse": "auto"}, format="json").json()

    fates = {n["nodeId"]: (n["fate"], n["source"] and n["source"]["runId"]) for n in body["nodes"]}
    assert fates == {"a": ("reuse", str(first.id)), "b": ("reuse", str(first.id)), "c": ("run", None)}
    assert body["llmCalls"] == 1
    assert WorkflowRun.objects.count() == runs
    assert len(llm_settings.requests) == 2


def test_the_plan_of_a_node_run_skips_what_the_node_does_not_need(alice, alice_client):
    graph = chain(0, 0)

    body = alice_client.post(
        "/api/execute/plan", {**graph, "scope": "node", "nodeIds": ["b"]}, format="json"
    ).json()

    assert {n["nodeId"]: n["fate"] for n in body["nodes"]} == {"a": "run", "b": "run", "c": "skip"}
    assert body["llmCalls"] == 1


def test_the_plan_never_offers_another_users_results(alice, bob_client, llm_settings):
    execute(alice, chain(0))

    body = bob_client.post("/api/execute/plan", chain(0), format="json").json()

    assert {n["fate"] for n in body["nodes"]} == {"run"}


def test_the_plan_binds_the_input_values_a_run_would_get(alice, alice_client):
    graph = callable_graph()
    first = execute(alice, graph, inputs={"topic": "owls"})

    def fates(inputs: dict) -> dict:
        body = alice_client.post("/api/execute/plan", {**graph, "inputs": inputs}, format="json").json()
        return {n["nodeId"]: n["fate"] for n in body["nodes"]}

    assert first.status == RunStatus.SUCCEEDED
    assert fates({"topic": "owls"})["prompt"] == "reuse"
    assert fates({"topic": "bats"})["prompt"] == "run"


def test_the_plan_refuses_input_values_a_run_would_refuse(alice_client):
    response = alice_client.post(
        "/api/execute/plan", {**callable_graph(), "inputs": {"topic": 3, "colour": "red"}}, format="json"
    )

    assert response.status_code == 400
    assert sorted(e["path"] for e in response.json()["errors"]) == ["inputs.colour", "inputs.topic"]


def test_the_plan_of_an_invalid_graph_is_a_400_with_paths(alice_client):
    response = alice_client.post(
        "/api/execute/plan", {"nodes": [node("b", "llm")], "edges": []}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]


def test_resume_starts_a_new_run_of_the_same_snapshot(alice, alice_client):
    old = WorkflowRunFactory(owner=alice, status=RunStatus.FAILED)

    response = alice_client.post(f"/api/runs/{old.id}/resume")

    assert response.status_code == 202
    new = WorkflowRun.objects.get(pk=response.json()["runId"])
    assert (new.resumed_from, new.graph, new.scope, new.status) == (old, old.graph, old.scope, "queued")


def test_resume_of_a_running_run_is_409_and_of_another_users_run_404(alice, alice_client, bob_client):
    running = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    finished = WorkflowRunFactory(owner=alice, status=RunStatus.FAILED)

    assert alice_client.post(f"/api/runs/{running.id}/resume").status_code == 409
    assert bob_client.post(f"/api/runs/{finished.id}/resume").status_code == 404
    assert not WorkflowRun.objects.filter(resumed_from__isnull=False).exists()


def test_rerun_takes_reuse(alice, alice_client):
    old = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)

    response = alice_client.post(f"/api/runs/{old.id}/rerun", {"reuse": "all"}, format="json")
    refused = alice_client.post(f"/api/runs/{old.id}/rerun", {"reuse": "never"}, format="json")

    assert WorkflowRun.objects.get(pk=response.json()["runId"]).reuse == "all"
    assert refused.status_code == 400


def test_a_reused_result_in_the_run_detail_links_its_original(alice, alice_client, llm_settings):
    first = execute(alice, chain(0))
    second = execute(alice, chain(0))

    body = alice_client.get(f"/api/runs/{second.id}").json()

    b = next(r for r in body["nodeResults"] if r["nodeId"] == "b")
    assert (b["status"], b["reusedFrom"], b["cost"], b["inputTokens"]) == (
        "reused",
        {"runId": str(first.id), "nodeId": "b"},
        0.0,
        0,
    )
    assert (body["reusedNodes"], body["reuse"]) == (2, "auto")


def test_changing_the_deployments_default_model_changes_the_keys_of_nodes_that_name_none(
    alice, llm_settings, settings
):
    execute(alice, chain(0))
    settings.LLM_DEFAULT_MODELS = ["gemini/gemini-2.5-pro"]

    run = execute(alice, chain(0))

    assert statuses(run) == {"a": "reused", "b": "succeeded"}
    assert [r.model for r in llm_settings.requests] == ["gemini-2.5-flash", "gemini-2.5-pro"]
