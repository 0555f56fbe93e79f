"""`make run` on a fresh machine (SQLite, no broker): the serving process ticks the schedules itself."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from tests.graphs import callable_graph
from tests.runs.processes import free_port, fresh_sqlite_site, kill_group, start, wait_http

# Runs in the child: Alice's published workflow and a schedule that is already due.
_SETUP = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from accounts.services import api_token_create
from triggers.models import Schedule
from triggers.services import schedule_create
from workflows.services import workflow_create, workflow_publish
alice = User.objects.create_user("alice@example.com", "x")
workflow = workflow_publish(workflow=workflow_create(owner=alice, name="W", **GRAPH))
schedule = schedule_create(owner=alice, workflow=workflow, cron="0 9 * * *", inputs={"topic": "tides"})
Schedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))
print(api_token_create(owner=alice, name="t").secret)
"""


@pytest.mark.slow
def test_the_serving_process_fires_due_schedules_with_the_in_process_worker(tmp_path: Path):
    env, manage = fresh_sqlite_site(tmp_path, SCHEDULER_TICK_SECONDS="0.2")

    manage("migrate", "--noinput")
    token = manage("shell", "-c", f"GRAPH = {callable_graph()!r}\n{_SETUP}").strip().splitlines()[-1]
    port = free_port()
    server = start(
        ["manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], env, tmp_path / "server.log"
    )
    headers = {"Authorization": f"Bearer {token}"}
    runs: list[dict] = []
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/runs?trigger=schedule", headers=headers
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                runs = json.loads(response.read())["results"]
            if runs and runs[0]["status"] == "succeeded":
                break
            time.sleep(0.2)
        detail = urllib.request.Request(f"http://127.0.0.1:{port}/api/runs/{runs[0]['id']}", headers=headers)
        with urllib.request.urlopen(detail, timeout=10) as response:
            body = json.loads(response.read())
    finally:
        kill_group(server, 15)

    assert len(runs) == 1, (tmp_path / "server.log").read_text()
    assert (body["status"], body["trigger"]) == ("succeeded", "schedule")
    assert body["outputs"]["answer"] == "Write about tides"
