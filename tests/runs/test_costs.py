"""Cost: prices from a data file, tokens and cost per result and per run, usage reports, daily budgets and
the per-run token cap under parallel calls."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core.engine_config import price_table
from runs.costs import budget_for
from runs.driving import run_execute
from runs.models import BudgetHold, NodeResult, RunStatus, UserBudget, WorkflowRun
from runs.services import run_create
from tests.factories import NodeResultFactory, WorkflowFactory, WorkflowRunFactory
from tests.graphs import edge, node

pytestmark = pytest.mark.django_db


def execute(owner, graph, **options) -> WorkflowRun:
    run = run_create(owner=owner, graph=graph, enqueue=False, **options)
    return run_execute(run_id=str(run.id))


def llm_chain(length: int, **llm_data) -> dict[str, list]:
    """Text `a` ("hello") feeding LLM `b`, feeding LLM `c`...: the fake server echoes, so prompts grow."""
    nodes = [node("a", "text", text="hello")]
    edges = []
    for i in range(1, length):
        node_id, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        nodes.append(node(node_id, "llm", temperature=0, **llm_data))
        edges.append(edge(previous, node_id, "text", "prompt"))
    return {"nodes": nodes, "edges": edges}


def results(run: WorkflowRun) -> dict[str, NodeResult]:
    return {r.node_id: r for r in NodeResult.objects.filter(run=run)}


@pytest.fixture
def prices(settings, tmp_path: Path) -> Path:
    """Round prices, so that costs are easy to check: $1 per input token, $10 per output token."""
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gemini": {"gemini-2.5-flash": {"input": 1_000_000, "output": 10_000_000}}}))
    settings.LLM_PRICES_FILE = str(path)
    return path


# Price table --------------------------------------------------------------------------------


def test_a_price_file_that_does_not_parse_is_an_error_naming_the_file_and_line(settings, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{\n  "gemini": {\n    "gemini-2.5-flash": {"input": 0.3, "output": }\n  }\n}\n')
    settings.LLM_PRICES_FILE = str(path)

    with pytest.raises(ImproperlyConfigured) as raised:
        price_table()

    assert f"{path}, line 3" in str(raised.value)


def test_a_price_without_an_output_price_is_an_error_naming_its_line(settings, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{\n  "groq": {\n    "llama": {"input": 0.3}\n  }\n}\n')
    settings.LLM_PRICES_FILE = str(path)

    with pytest.raises(ImproperlyConfigured, match=r"line 3: groq/llama needs exactly"):
        price_table()


def test_the_shipped_price_file_loads_and_prices_the_default_models():
    table = price_table()

    assert table.cost("gemini", "gemini-2.5-flash", 1_000_000, 0) == Decimal("0.300000")
    assert table.cost("groq", "no-such-model", 10, 10) is None


# Tokens and cost per result and run ---------------------------------------------------------


def test_each_call_records_its_tokens_and_cost_and_the_run_sums_them(alice, llm_settings, prices):
    run = execute(alice, llm_chain(3))

    by_node = results(run)
    # b: "hello" (1 token) -> "echo: hello" (2); c: "echo: hello" (2) -> "echo: echo: hello" (3).
    assert (by_node["b"].input_tokens, by_node["b"].output_tokens, by_node["b"].cost) == (1, 2, Decimal(21))
    assert (by_node["c"].input_tokens, by_node["c"].output_tokens, by_node["c"].cost) == (2, 3, Decimal(32))
    assert by_node["a"].cost is None
    assert (run.input_tokens, run.output_tokens, run.cost) == (3, 5, Decimal(53))


def test_a_model_without_a_price_costs_null_not_zero(alice, llm_settings, prices):
    run = execute(alice, llm_chain(2, model="mystery-model"))

    assert results(run)["b"].model == "mystery-model"
    assert results(run)["b"].cost is None
    assert (run.input_tokens, run.cost) == (1, None)


# Usage --------------------------------------------------------------------------------------


def test_usage_sums_a_users_calls_per_day_model_and_workflow(
    alice, bob, alice_client, django_assert_max_num_queries
):
    workflow = WorkflowFactory(owner=alice, name="Digest")
    run = WorkflowRunFactory(owner=alice, workflow=workflow)
    unsaved = WorkflowRunFactory(owner=alice, workflow=None)
    yesterday = timezone.now() - timedelta(days=1)
    call = {"node_type": "llm", "provider": "gemini", "model": "gemini-2.5-flash"}
    NodeResultFactory(run=run, owner=alice, input_tokens=10, output_tokens=5, cost=Decimal("0.5"), **call)
    NodeResultFactory(
        run=unsaved, owner=alice, input_tokens=1, output_tokens=1, cost=None, **{**call, "model": "mystery"}
    )
    NodeResultFactory(
        run=run, owner=alice, input_tokens=2, output_tokens=2, cost=Decimal("1"), created_at=yesterday, **call
    )
    NodeResultFactory(run=run, owner=alice, node_type="text")  # no model call
    NodeResultFactory(run=WorkflowRunFactory(owner=bob), owner=bob, input_tokens=99, cost=Decimal(9), **call)

    with django_assert_max_num_queries(4):  # session, user, the groups, the total
        by_day = alice_client.get("/api/usage", {"groupBy": "day"}).json()
    by_model = alice_client.get("/api/usage", {"groupBy": "model"}).json()
    by_workflow = alice_client.get("/api/usage", {"groupBy": "workflow"}).json()

    assert by_day["total"] == {
        "key": "total",
        "label": "Total",
        "calls": 3,
        "inputTokens": 13,
        "outputTokens": 8,
        "cost": 1.5,
        "unpricedCalls": 1,
    }
    assert [(r["key"], r["calls"], r["cost"]) for r in by_day["results"]] == [
        (yesterday.date().isoformat(), 1, 1.0),
        (timezone.now().date().isoformat(), 2, 0.5),
    ]
    assert [(r["label"], r["calls"], r["cost"]) for r in by_model["results"]] == [
        ("gemini/gemini-2.5-flash", 2, 1.5),
        ("gemini/mystery", 1, None),
    ]
    assert sorted((r["label"], r["inputTokens"]) for r in by_workflow["results"]) == [
        ("Digest", 12),
        ("Unsaved graphs and deleted workflows", 1),
    ]


def test_usage_of_a_day_range_counts_only_those_days(alice, alice_client):
    run = WorkflowRunFactory(owner=alice)
    call = {"node_type": "llm", "provider": "gemini", "model": "gemini-2.5-flash", "owner": alice}
    NodeResultFactory(run=run, input_tokens=3, created_at=timezone.now() - timedelta(days=40), **call)
    NodeResultFactory(run=run, input_tokens=4, **call)

    default = alice_client.get("/api/usage").json()
    old = (timezone.now() - timedelta(days=40)).date().isoformat()
    only_old = alice_client.get("/api/usage", {"from": old, "to": old}).json()

    assert default["total"]["inputTokens"] == 4
    assert only_old["total"]["inputTokens"] == 3
    assert (only_old["from"], only_old["to"]) == (old, old)


def test_bob_sees_none_of_alices_usage(alice, bob_client):
    call = {"node_type": "llm", "provider": "gemini", "model": "gemini-2.5-flash", "owner": alice}
    NodeResultFactory(run=WorkflowRunFactory(owner=alice), input_tokens=3, **call)

    body = bob_client.get("/api/usage").json()

    assert body["results"] == []
    assert body["total"]["calls"] == 0


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"groupBy": "hour"}, "groupBy"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from"),
    ],
)
def test_bad_usage_queries_are_400_with_the_field(alice_client, query, path):
    response = alice_client.get("/api/usage", query)

    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == [path]


# Budgets ------------------------------------------------------------------------------------


def test_the_node_that_would_cross_the_daily_token_budget_fails_and_its_descendants_are_skipped(
    alice, llm_settings, settings
):
    # Reservations are the prompt estimate (characters / 4) plus maxOutputTokens (10): b 12, c 13, d 15.
    # b uses 3 and c 5, so d would need 15 of the 12 left.
    settings.RUN_DAILY_TOKEN_BUDGET = 20
    run = execute(alice, llm_chain(5, maxOutputTokens=10))

    by_node = results(run)
    assert run.status == RunStatus.FAILED
    assert {n: r.status for n, r in by_node.items()} == {
        "a": "succeeded",
        "b": "succeeded",
        "c": "succeeded",
        "d": "failed",
        "e": "skipped",
    }
    assert by_node["d"].error_kind == "budget"
    assert by_node["d"].error_message == (
        "daily token budget of 20 reached: this call may use 15 tokens and 12 remain today"
    )
    assert len(llm_settings.requests) == 2


def test_usage_earlier_today_counts_against_the_budget_and_a_user_override_wins(
    alice, bob, llm_settings, settings, prices
):
    settings.RUN_DAILY_COST_BUDGET = Decimal(1000)
    UserBudget.objects.create(owner=alice, daily_cost=Decimal(30))
    execute(bob, llm_chain(2))  # another user's spending is not alice's
    first = execute(alice, llm_chain(2))  # b costs $21: its estimate ($2 + 1024 * $10) does not fit $30...

    assert results(first)["b"].error_kind == "budget"
    assert results(first)["b"].error_message.startswith("daily cost budget of $30 reached")
    UserBudget.objects.filter(owner=alice).update(daily_cost=Decimal(10_020))
    # b reserves $2 + $10000 and spends $21; c would reserve $10003 of the $9999 left.
    second = execute(alice, llm_chain(3, maxOutputTokens=1000))

    statuses = {n: r.status for n, r in results(second).items()}
    assert statuses == {"a": "reused", "b": "succeeded", "c": "failed"}
    assert results(second)["c"].error_message == (
        "daily cost budget of $10020 reached: this call may cost $10003 and $9999 remain today"
    )


def test_a_call_in_flight_in_another_run_holds_its_share_of_the_budget_until_it_ends(
    alice, llm_settings, settings
):
    settings.RUN_DAILY_TOKEN_BUDGET = 1500
    other = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    in_flight = budget_for(owner=alice, run_id=other.id)
    assert in_flight.reserve(node_id="x", model=None, input_tokens=2, output_tokens=1024) is None

    refused = execute(alice, llm_chain(2))  # b would reserve 1026 of the 474 left
    in_flight.release(node_id="x")
    allowed = execute(alice, llm_chain(2))

    assert results(refused)["b"].error_kind == "budget"
    assert results(refused)["b"].error_message == (
        "daily token budget of 1500 reached: this call may use 1026 tokens and 474 remain today"
    )
    assert allowed.status == RunStatus.SUCCEEDED
    assert not BudgetHold.objects.exists()  # every call gave its hold back


def test_a_hold_left_by_a_dead_worker_stops_counting_after_the_node_timeout(alice, llm_settings, settings):
    settings.RUN_DAILY_TOKEN_BUDGET = 1500
    other = WorkflowRunFactory(owner=alice, status=RunStatus.RUNNING)
    budget_for(owner=alice, run_id=other.id).reserve(
        node_id="x", model=None, input_tokens=2, output_tokens=1024
    )
    stale = timezone.now() - timedelta(seconds=settings.RUN_NODE_TIMEOUT_SECONDS + 1)
    BudgetHold.objects.update(created_at=stale)

    assert execute(alice, llm_chain(2)).status == RunStatus.SUCCEEDED


# The per-run token cap under parallel calls -------------------------------------------------


def test_ten_parallel_llm_calls_never_overshoot_the_run_token_cap(alice, llm_settings, settings):
    settings.RUN_CONCURRENCY = 10
    settings.RUN_MAX_LLM_TOKENS = 350
    llm_settings.latency_s = 0.2  # all ten would be in flight together
    llm_settings.reply = lambda provider, body: " ".join(["word"] * 90)
    nodes = [node("a", "text", text="hello")]
    edges = []
    for i in range(10):
        nodes.append(node(f"l{i}", "llm", maxOutputTokens=100))
        edges.append(edge("a", f"l{i}", "text", "prompt"))

    run = execute(alice, {"nodes": nodes, "edges": edges})

    by_node = results(run)
    called = [r for r in by_node.values() if r.status == "succeeded" and r.node_type == "llm"]
    capped = [r for r in by_node.values() if r.error_kind == "cost_cap"]
    spent = sum((r.input_tokens or 0) + (r.output_tokens or 0) for r in by_node.values())
    # Each call reserves 102 (prompt estimate 2 + maxOutputTokens 100): three fit under 350.
    assert (len(called), len(capped)) == (3, 7)
    assert len(llm_settings.requests) == 3
    assert spent == 3 * 91 <= 350
    assert run.status == RunStatus.FAILED
