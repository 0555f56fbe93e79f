"""`manage.py seed_demo`: the demo login and the demo workflows, idempotently."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from accounts.models import User
from core.engine_config import graph_limits
from engine import execution_order, validate_graph
from runs.driving import run_execute
from runs.models import RunStatus
from runs.services import run_create
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_demo_user_and_a_valid_hello_weft(monkeypatch):
    monkeypatch.delenv("WEFT_DEMO_PASSWORD", raising=False)

    output = _seed()

    assert "demo@weft.local" in output
    assert "weft-demo-1234" in output
    user = User.objects.get(email="demo@weft.local")
    assert user.check_password("weft-demo-1234")
    assert set(Workflow.objects.filter(owner=user).values_list("name", flat=True)) == {
        "Hello Weft",
        "Sort the mail",
    }
    workflow = Workflow.objects.get(owner=user, name="Hello Weft")
    assert workflow.versions.count() == 1
    assert validate_graph(workflow.graph, limits=graph_limits()) == []
    types = {node["id"]: node["type"] for node in workflow.nodes}
    assert [types[node_id] for node_id in execution_order(workflow.graph)] == [
        "text",
        "prompt",
        "llm",
        "debug",
    ]
    xs = [node["position"]["x"] for node in workflow.nodes]
    assert xs == sorted(xs)
    assert len(set(xs)) == 4


def test_seed_demo_is_idempotent_and_takes_the_password_from_option_or_env(monkeypatch):
    monkeypatch.setenv("WEFT_DEMO_PASSWORD", "from-the-env-1")
    assert "from-the-env-1" in _seed()

    output = _seed("--password", "from-the-option-2")

    assert "from-the-option-2" in output
    assert User.objects.filter(email="demo@weft.local").count() == 1
    assert User.objects.get(email="demo@weft.local").check_password("from-the-option-2")
    assert Workflow.objects.filter(name="Hello Weft").count() == 1
    assert Workflow.objects.filter(name="Sort the mail").count() == 1


@pytest.mark.parametrize(
    ("label", "answer"), [("spam", "Filed as spam, not answered"), ("ham", "Filed as ham, answer soon")]
)
def test_the_sort_the_mail_demo_takes_one_branch_and_skips_the_other(llm_settings, label, answer):
    _seed()
    workflow = Workflow.objects.get(name="Sort the mail")
    llm_settings.reply = lambda provider, body: json.dumps({"label": label})
    not_taken = "ham" if label == "spam" else "spam"

    run = run_execute(run_id=str(run_create(owner=workflow.owner, graph=workflow.graph, enqueue=False).id))

    assert run.status == RunStatus.SUCCEEDED
    results = {r.node_id: r for r in run.node_results.all()}
    assert results["debug"].output["value"].startswith(answer)
    assert (results[not_taken].status, results[not_taken].error_kind) == ("skipped", "branch_not_taken")
