"""Operator tools: run_workflow and purge_runs, the admin, and the in-process worker of `make run`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from runs.models import ExecutionLog, NodeResult, RunStatus, UserBudget, WorkflowRun
from runs.worker import is_serving_process
from tests.factories import ExecutionLogFactory, NodeResultFactory, WorkflowFactory, WorkflowRunFactory
from tests.graphs import graph, node, text_llm_chain
from tests.runs.processes import ROOT, free_port, fresh_sqlite_site, kill_group, start, wait_http


@pytest.mark.django_db
def test_run_workflow_runs_a_saved_workflow_with_progress_and_outputs(alice, llm_settings, capsys):
    workflow = WorkflowFactory(owner=alice, **text_llm_chain(3))

    call_command("run_workflow", str(workflow.id))

    out = capsys.readouterr().out
    assert "3/3 c (llm) succeeded" in out
    assert 'output: {"text": "echo: echo: hello"}' in out
    assert "Run succeeded" in out
    run = WorkflowRun.objects.get()
    assert (run.owner, run.workflow, run.status) == (alice, workflow, RunStatus.SUCCEEDED)


@pytest.mark.django_db
def test_run_workflow_reuses_unchanged_nodes_unless_told_not_to(alice, llm_settings, capsys):
    workflow = WorkflowFactory(owner=alice, **text_llm_chain(2))
    call_command("run_workflow", str(workflow.id))

    call_command("run_workflow", str(workflow.id))
    reused = capsys.readouterr().out
    call_command("run_workflow", str(workflow.id), "--reuse", "none")

    assert "1/2 a (text) reused" in reused
    assert [run.reuse for run in WorkflowRun.objects.order_by("created_at")] == ["auto", "auto", "none"]
    assert NodeResult.objects.filter(status="succeeded", node_id="a").count() == 2


@pytest.mark.django_db
def test_run_workflow_prints_each_answer_as_it_streams_in_before_its_result(
    alice, llm_settings, settings, capsys
):
    settings.LLM_MAX_ATTEMPTS = 2
    llm_settings.fail_next("gemini", status="cut")  # b's first answer stops half-way
    workflow = WorkflowFactory(owner=alice, **text_llm_chain(2, text="one two three four"))

    call_command("run_workflow", str(workflow.id))

    out = capsys.readouterr().out
    streamed = out.index("    b > echo: one two three four\n")
    assert out.index("    b > echo:") < out.index("b: partial answer discarded, starting over") < streamed
    assert streamed < out.index("2/2 b (llm) succeeded")


@pytest.mark.django_db
def test_run_workflow_exits_non_zero_when_the_run_fails(alice, llm_settings, capsys):
    llm_settings.fail_next("gemini", status=400)
    workflow = WorkflowFactory(owner=alice, **text_llm_chain(3))

    with pytest.raises(CommandError, match="Run failed"):
        call_command("run_workflow", str(workflow.id))

    assert "c (llm) skipped" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.com", "alice@\uff45xample.com"])
def test_run_workflow_runs_a_file_for_a_user(alice, llm_settings, tmp_path, capsys, email):
    """The user is found as logins find them: by the normalised address (case, full-width letters)."""
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({"weft": 1, "name": "From a file", **text_llm_chain(2)}))

    call_command("run_workflow", str(path), "--user", email)

    assert WorkflowRun.objects.get().owner == alice
    with pytest.raises(CommandError, match="needs --user"):
        call_command("run_workflow", str(path))


@pytest.mark.django_db
def test_run_workflow_refuses_another_users_workflow_and_invalid_graphs(alice, bob, tmp_path):
    workflow = WorkflowFactory(owner=bob)
    with pytest.raises(CommandError, match="No workflow"):
        call_command("run_workflow", str(workflow.id), "--user", "alice@example.com")

    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"nodes": [{"id": "x", "type": "nope"}], "edges": []}))
    with pytest.raises(CommandError, match=r"nodes\[0\]"):
        call_command("run_workflow", str(path), "--user", "alice@example.com")


def test_run_workflow_exit_code_is_zero_only_on_success(tmp_path):
    """Through a real process: the exit code scripts depend on."""
    bad = subprocess.run(
        [sys.executable, "manage.py", "run_workflow", "not-a-workflow"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "workflowsite.test_settings", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert bad.returncode == 1
    assert "neither a workflow id nor a .json file" in bad.stderr


@pytest.mark.django_db
def test_purge_runs_deletes_old_finished_runs_with_their_results_and_logs(alice, capsys):
    old = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)
    WorkflowRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    NodeResultFactory(run=old)
    ExecutionLogFactory(run=old)
    old_but_active = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    WorkflowRun.objects.filter(pk=old_but_active.pk).update(created_at=timezone.now() - timedelta(days=40))
    recent = WorkflowRunFactory(owner=alice, status=RunStatus.FAILED)

    call_command("purge_runs", "--older-than", "30d")

    assert "Deleted 1 run(s)" in capsys.readouterr().out
    assert set(WorkflowRun.objects.values_list("pk", flat=True)) == {old_but_active.pk, recent.pk}
    assert not NodeResult.objects.exists()
    assert not ExecutionLog.objects.exists()
    with pytest.raises(CommandError, match="must look like"):
        call_command("purge_runs", "--older-than", "a month")


@pytest.mark.django_db
def test_the_admin_filters_runs_shows_results_and_logs_inline_and_cancels_and_reruns(admin_client, alice):
    run = WorkflowRunFactory(owner=alice, status=RunStatus.QUEUED)
    NodeResultFactory(run=run, node_id="text-1", error_message="visible inline")
    ExecutionLogFactory(run=run, message="a log line inline")
    done = WorkflowRunFactory(owner=alice, status=RunStatus.SUCCEEDED)

    listing = admin_client.get("/admin/runs/workflowrun/?status__exact=queued")
    assert listing.status_code == 200
    assert str(run.id) in listing.content.decode()
    assert str(done.id) not in listing.content.decode()
    page = admin_client.get(f"/admin/runs/workflowrun/{run.id}/change/").content.decode()
    assert "visible inline" in page
    assert "a log line inline" in page

    admin_client.post(
        "/admin/runs/workflowrun/", {"action": "cancel_runs", "_selected_action": [str(run.id), str(done.id)]}
    )
    admin_client.post(
        "/admin/runs/workflowrun/", {"action": "rerun_runs", "_selected_action": [str(done.id)]}
    )

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert WorkflowRun.objects.filter(owner=alice, status=RunStatus.QUEUED).count() == 1  # the rerun


@pytest.mark.django_db
def test_an_operator_sets_a_users_daily_budget_in_the_admin(admin_client, alice):
    response = admin_client.post(
        "/admin/runs/userbudget/add/", {"owner": alice.pk, "daily_cost": "2.50", "daily_tokens": ""}
    )

    assert response.status_code == 302
    budget = UserBudget.objects.get(owner=alice)
    assert (budget.daily_cost, budget.daily_tokens) == (Decimal("2.5"), None)
    assert "alice@example.com" in admin_client.get("/admin/runs/userbudget/").content.decode()


def test_only_the_serving_process_gets_the_in_process_worker(monkeypatch):
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert is_serving_process(["manage.py", "runserver", "--noreload"])
    assert not is_serving_process(["manage.py", "runserver"])  # the autoreloader's parent
    assert not is_serving_process(["manage.py", "migrate"])
    assert is_serving_process(["/venv/bin/gunicorn", "workflowsite.wsgi"])
    assert is_serving_process(["/venv/lib/python3.11/site-packages/uvicorn/__main__.py", "workflowsite.asgi"])
    monkeypatch.setenv("RUN_MAIN", "true")
    assert is_serving_process(["manage.py", "runserver"])


@pytest.mark.slow
def test_make_run_executes_runs_on_sqlite_without_any_broker(tmp_path: Path):
    """What `make run` does on a fresh machine: SQLite, no Redis, the in-process worker."""
    env, manage = fresh_sqlite_site(
        tmp_path, METRICS_TOKEN="scrape-me", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics")
    )

    manage("migrate", "--noinput")
    manage(
        "shell", "-c", "from accounts.models import User; User.objects.create_user('dev@example.com', 'x')"
    )
    token = manage("create_api_token", "dev@example.com").strip().splitlines()[-1]
    port = free_port()
    server = start(
        ["manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], env, tmp_path / "server.log"
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        one_text = graph([node("t", "text", text="hi")])
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/execute",
            data=json.dumps(one_text).encode(),
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            run_id = json.loads(response.read())["runId"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            detail = urllib.request.Request(f"http://127.0.0.1:{port}/api/runs/{run_id}", headers=headers)
            with urllib.request.urlopen(detail, timeout=10) as response:
                body = json.loads(response.read())
            if body["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        scrape = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer scrape-me"}
        )
        with urllib.request.urlopen(scrape, timeout=10) as response:
            metrics = response.read().decode()
    finally:
        kill_group(server, 15)

    assert body["status"] == "succeeded", (tmp_path / "server.log").read_text()
    assert body["nodeResults"][0]["output"] == {"text": "hi"}
    assert 'weft_runs_finished_total{status="succeeded"} 1.0' in metrics.splitlines()
