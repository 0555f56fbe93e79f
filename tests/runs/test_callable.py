"""Workflows as functions: POST /api/workflows/{id}/runs with inputs, `wait`, outputs by name, inputs on
/api/execute, the trigger a run records, and running only what was published."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from runs.driving import run_execute
from runs.models import RunStatus, RunTrigger, WorkflowRun
from tests.brokers import drain
from tests.factories import WorkflowRunFactory
from tests.graphs import callable_graph, text_to_debug_graph
from uploads.models import Upload
from workflows.services import workflow_create, workflow_publish, workflow_update

pytestmark = pytest.mark.django_db


def _published(owner, graph=None):
    workflow = workflow_create(owner=owner, name="Writer", **(graph or callable_graph()))
    return workflow_publish(workflow=workflow)


def _runs_url(workflow) -> str:
    return f"/api/workflows/{workflow.pk}/runs"


def _upload(owner) -> Upload:
    return Upload.objects.create(
        owner=owner,
        storage_key=f"uploads/x/{uuid.uuid4()}.png",
        content_type="image/png",
        width=1,
        height=1,
        size=1,
    )


def test_running_by_api_records_the_inputs_the_published_version_and_the_trigger(alice, alice_token_client):
    workflow = _published(alice)

    response = alice_token_client.post(_runs_url(workflow), {"inputs": {"topic": "otters"}}, format="json")

    assert response.status_code == 202
    run = WorkflowRun.objects.get(pk=response.json()["runId"])
    assert (run.trigger, run.workflow_version, run.inputs) == (RunTrigger.API, 1, {"topic": "otters"})


@pytest.mark.parametrize(
    ("inputs", "errors"),
    [
        ({}, [("inputs.topic", "is required")]),
        ({"topic": "x", "colour": "red"}, [("inputs.colour", "the workflow has no input named 'colour'")]),
        ({"topic": 7}, [("inputs.topic", "must be a string (a text input)")]),
        ({"topic": "x", "photo": 3}, [("inputs.photo", "must be an upload id or an http(s) URL")]),
        ({"topic": "x", "photo": str(uuid.UUID(int=1))}, [("inputs.photo", "unknown upload")]),
        (
            {"topic": "x", "photo": "ftp://example.com/cat.png"},
            [("inputs.photo", "must be an http:// or https://")],
        ),
        (
            {"topic": "x", "photo": {"url": "https://user:pw@example.com/a.png"}},
            [("inputs.photo", "must not contain")],
        ),
        ({"topic": "bad\x00"}, [("inputs.topic", "must not contain NUL characters.")]),
        ("not an object", [("inputs", 'Expected a dictionary of items but got type "str".')]),
    ],
)
def test_every_input_error_is_a_400_with_its_path(alice, alice_client, inputs, errors):
    workflow = _published(alice)

    response = alice_client.post(_runs_url(workflow), {"inputs": inputs}, format="json")

    assert response.status_code == 400
    found = [(e["path"], e["message"]) for e in response.json()["errors"]]
    assert len(found) == len(errors)
    for (path, message), (want_path, want_start) in zip(found, errors, strict=True):
        assert path == want_path
        assert message.startswith(want_start)
    assert not WorkflowRun.objects.exists()


def test_an_image_input_takes_the_owners_upload_but_not_another_users(alice, bob, alice_client):
    workflow = _published(alice)
    mine, theirs = _upload(alice), _upload(bob)

    ok = alice_client.post(
        _runs_url(workflow), {"inputs": {"topic": "x", "photo": str(mine.pk)}}, format="json"
    )
    refused = alice_client.post(
        _runs_url(workflow), {"inputs": {"topic": "x", "photo": {"uploadId": str(theirs.pk)}}}, format="json"
    )

    assert ok.status_code == 202
    assert WorkflowRun.objects.get(pk=ok.json()["runId"]).inputs["photo"] == {
        "uploadId": str(mine.pk),
        "url": None,
    }
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"path": "inputs.photo", "message": "unknown upload"}]


def test_an_image_url_input_is_read_through_the_safe_fetcher_when_the_run_executes(alice, alice_client):
    graph = callable_graph()
    # The image goes into a Vision node, which reads it: the fetcher refuses a loopback address.
    graph["nodes"].append(
        {"id": "v", "type": "vision", "position": {"x": 0, "y": 0}, "data": {"prompt": "?"}}
    )
    graph["edges"].append(
        {"id": "pv", "source": "photo", "sourceHandle": "value", "target": "v", "targetHandle": "image"}
    )
    workflow = _published(alice, graph)
    response = alice_client.post(
        _runs_url(workflow), {"inputs": {"topic": "x", "photo": "http://127.0.0.1/cat.png"}}, format="json"
    )

    run = run_execute(run_id=response.json()["runId"])

    vision = run.node_results.get(node_id="v")
    assert (vision.status, vision.error_kind) == ("failed", "invalid_input")
    assert "could not be fetched" in vision.error_message


def test_the_run_detail_shows_inputs_and_outputs_by_name(alice, alice_client):
    workflow = _published(alice)
    run_id = alice_client.post(_runs_url(workflow), {"inputs": {"topic": "otters"}}, format="json").json()[
        "runId"
    ]

    run_execute(run_id=run_id)
    detail = alice_client.get(f"/api/runs/{run_id}").json()

    assert detail["status"] == "succeeded"
    assert detail["inputs"] == {"topic": "otters"}
    assert detail["outputs"] == {"answer": "Write about otters", "style": "plain", "photo": None}
    assert (detail["trigger"], detail["triggerRef"]) == ("api", "")


def test_execute_records_who_started_the_run_the_editor_or_a_token(alice_client, alice_token_client):
    by_editor = alice_client.post("/api/execute", text_to_debug_graph(), format="json").json()["runId"]
    by_script = alice_token_client.post("/api/execute", text_to_debug_graph(), format="json").json()["runId"]

    triggers = dict(WorkflowRun.objects.values_list("id", "trigger"))
    assert (triggers[uuid.UUID(by_editor)], triggers[uuid.UUID(by_script)]) == ("editor", "api")


def test_execute_takes_inputs_for_the_editors_graph(alice, alice_client):
    response = alice_client.post(
        "/api/execute", {**callable_graph(), "inputs": {"topic": "owls"}}, format="json"
    )
    missing = alice_client.post("/api/execute", callable_graph(), format="json")

    run = run_execute(run_id=response.json()["runId"])
    assert (run.status, run.trigger, run.inputs) == (
        RunStatus.SUCCEEDED,
        RunTrigger.EDITOR,
        {"topic": "owls"},
    )
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"path": "inputs.topic", "message": "is required"}]


def test_a_node_run_may_leave_required_inputs_out(alice, alice_client):
    workflow = workflow_create(owner=alice, name="Writer", **callable_graph())

    response = alice_client.post(
        "/api/execute",
        {"workflowId": str(workflow.pk), "scope": "node", "nodeIds": ["style-out"]},
        format="json",
    )

    assert response.status_code == 202


def test_a_rerun_repeats_the_inputs_and_names_its_source(alice, alice_client):
    response = alice_client.post(
        "/api/execute", {**callable_graph(), "inputs": {"topic": "owls"}}, format="json"
    )
    first = response.json()["runId"]

    again = alice_client.post(f"/api/runs/{first}/rerun").json()["runId"]

    rerun = WorkflowRun.objects.get(pk=again)
    assert (rerun.trigger, rerun.trigger_ref, rerun.inputs) == (RunTrigger.RERUN, first, {"topic": "owls"})


def test_the_runs_list_filters_by_trigger_and_trigger_id(alice, alice_client, django_assert_max_num_queries):
    WorkflowRunFactory(owner=alice, trigger=RunTrigger.EDITOR)
    hook = WorkflowRunFactory(owner=alice, trigger=RunTrigger.WEBHOOK, trigger_ref="hook-1")
    WorkflowRunFactory(owner=alice, trigger=RunTrigger.WEBHOOK, trigger_ref="hook-2")

    with django_assert_max_num_queries(4):
        by_trigger = alice_client.get("/api/runs", {"trigger": "webhook"}).json()
    by_ref = alice_client.get("/api/runs", {"trigger": "webhook", "triggerRef": "hook-1"}).json()
    bad = alice_client.get("/api/runs", {"trigger": "carrier-pigeon"})

    assert by_trigger["count"] == 2
    assert [r["id"] for r in by_ref["results"]] == [str(hook.id)]
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "trigger"


def test_running_another_users_workflow_is_a_404(alice, bob_client):
    workflow = _published(alice)

    response = bob_client.post(_runs_url(workflow), {"inputs": {"topic": "x"}}, format="json")

    assert response.status_code == 404
    assert not WorkflowRun.objects.exists()


def test_the_api_run_needs_authentication(alice, anon_client):
    workflow = _published(alice)

    assert anon_client.post(_runs_url(workflow), {}, format="json").status_code == 401


def test_api_runs_share_the_rate_limit_and_active_run_cap(settings, alice, alice_client):
    settings.EXECUTE_RATE_LIMIT = "2/m"
    settings.RUN_MAX_ACTIVE_PER_USER = 100
    workflow = _published(alice)
    body = {"inputs": {"topic": "x"}}

    answers = [
        alice_client.post("/api/execute", text_to_debug_graph(), format="json").status_code,
        alice_client.post(_runs_url(workflow), body, format="json").status_code,
        alice_client.post(_runs_url(workflow), body, format="json").status_code,
    ]
    settings.EXECUTE_RATE_LIMIT = "100/m"
    settings.RUN_MAX_ACTIVE_PER_USER = 2
    capped = alice_client.post(_runs_url(workflow), body, format="json")

    assert answers == [202, 202, 429]
    assert capped.status_code == 429
    assert "2 runs queued or running" in capped.json()["detail"]


# Publishing ---------------------------------------------------------------------------------


def test_an_unpublished_workflow_is_a_409_through_the_api(alice, alice_client):
    workflow = workflow_create(owner=alice, name="Draft", **callable_graph())

    response = alice_client.post(_runs_url(workflow), {"inputs": {"topic": "x"}}, format="json")

    assert response.status_code == 409
    assert "not published" in response.json()["detail"]
    assert not WorkflowRun.objects.exists()


def test_editing_after_publishing_does_not_change_what_the_api_runs(alice, alice_client):
    workflow = _published(alice)
    workflow_update(
        workflow=workflow,
        name="Writer",
        description="",
        expected_version=1,
        saved_by=alice,
        **callable_graph(template="Edited: {{topic}}"),
    )

    run_id = alice_client.post(_runs_url(workflow), {"inputs": {"topic": "owls"}}, format="json").json()[
        "runId"
    ]
    run = run_execute(run_id=run_id)

    assert run.workflow_version == 1
    assert alice_client.get(f"/api/runs/{run_id}").json()["outputs"]["answer"] == "Write about owls"
    workflow_publish(workflow=workflow)
    run_id = alice_client.post(_runs_url(workflow), {"inputs": {"topic": "owls"}}, format="json").json()[
        "runId"
    ]
    run_execute(run_id=run_id)
    assert alice_client.get(f"/api/runs/{run_id}").json()["outputs"]["answer"] == "Edited: owls"


# wait ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_wait_answers_200_with_outputs_when_the_run_ends_in_time(alice, alice_client, broker, worker):
    workflow = _published(alice)

    response = alice_client.post(
        _runs_url(workflow), {"inputs": {"topic": "otters"}, "wait": 30}, format="json"
    )
    drain(broker, worker)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "runId": body["runId"],
        "status": "succeeded",
        "outputs": {"answer": "Write about otters", "style": "plain", "photo": None},
    }


@pytest.mark.django_db(transaction=True)
def test_wait_answers_202_when_the_run_has_not_ended(alice, alice_client, broker):
    workflow = _published(alice)  # no worker: the run stays queued

    response = alice_client.post(
        _runs_url(workflow), {"inputs": {"topic": "otters"}, "wait": 0.5}, format="json"
    )

    assert response.status_code == 202
    assert set(response.json()) == {"runId"}


@pytest.mark.parametrize("wait", [-1, 61, "soon"])
def test_wait_is_between_0_and_60_seconds(alice, alice_client, wait):
    workflow = _published(alice)

    response = alice_client.post(_runs_url(workflow), {"inputs": {"topic": "x"}, "wait": wait}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "wait"


# manage.py run_workflow --input ----------------------------------------------------------------


def test_run_workflow_fills_inputs_and_uploads_an_image_file(alice, settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = tmp_path / "cat.png"
    Image.new("RGB", (4, 4), (200, 100, 50)).save(photo, format="PNG")
    workflow = workflow_create(owner=alice, name="Writer", **callable_graph())

    call_command("run_workflow", str(workflow.pk), "--input", "topic=the sea", "--input", f"photo=@{photo}")

    out = capsys.readouterr().out
    run = WorkflowRun.objects.get()
    upload = Upload.objects.get(owner=alice)
    assert (run.status, run.trigger) == (RunStatus.SUCCEEDED, RunTrigger.CLI)
    assert run.inputs == {"topic": "the sea", "photo": {"uploadId": str(upload.pk), "url": None}}
    assert 'output answer: "Write about the sea"' in out
    photo_line = next(line for line in out.splitlines() if line.startswith("output photo: "))
    assert json.loads(photo_line.removeprefix("output photo: ")) == {"uploadId": str(upload.pk), "url": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "topic"], "write NAME=VALUE"),
        (["--input", "colour=red"], "inputs.colour: the workflow has no input named 'colour'"),
        ([], "inputs.topic: is required"),
        (["--input", "topic=x", "--input", "photo=@/no/such/file.png"], "cannot read /no/such/file.png"),
    ],
)
def test_run_workflow_explains_bad_inputs(alice, args, message):
    workflow = workflow_create(owner=alice, name="Writer", **callable_graph())

    with pytest.raises(CommandError, match=message):
        call_command("run_workflow", str(workflow.pk), *args)
    assert not WorkflowRun.objects.exists()


def test_the_run_detail_cuts_long_outputs_and_says_which(settings, alice, alice_client):
    settings.RUN_DETAIL_MAX_OUTPUT_CHARS = 20
    workflow = _published(alice)
    topic = "otters " * 20
    run_id = alice_client.post(_runs_url(workflow), {"inputs": {"topic": topic}}, format="json").json()[
        "runId"
    ]

    run_execute(run_id=run_id)
    detail = alice_client.get(f"/api/runs/{run_id}").json()
    answer_node = alice_client.get(f"/api/runs/{run_id}/nodes/answer/output").json()

    assert detail["outputs"]["answer"] == f"Write about {topic}"[:20]
    assert detail["outputsTruncated"] == ["answer"]
    assert answer_node == {"value": f"Write about {topic}"}
