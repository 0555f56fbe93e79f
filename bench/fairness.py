"""Fair admission: user A enqueues a burst of runs of a 200 ms node, then user B enqueues one; how long B's
run waits (created -> started) and A's throughput, with fairness on (RUN_MAX_RUNNING_PER_USER, default 8)
and off (a cap no burst reaches), on 2 Dramatiq worker processes x 4 threads.

    .venv/bin/python -m bench.fairness [--runs 500] [--cap 8] [--latency 0.2]

Goal: with fairness on, B's wait is at most 2x one run's duration (off, it waits for A's whole burst).
Needs PostgreSQL and Redis (BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432; REDIS_URL, default
redis://127.0.0.1:6379/2). It creates and migrates a database of its own (weft_bench_fairness); the 200 ms
node is an LLM node answered by the fake server (tests/fakes/llm_server.py) after `--latency` seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from bench import ENCRYPTION_KEY
from bench.queue import prepare_database, redis_forget, start_group, stop_group
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import text_llm_chain

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2")
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "weft_bench_fairness"
NAMESPACE = "dramatiq"  # the broker's default: the bench's own Redis database holds nothing else of ours
UNLIMITED = 1_000_000


def django_env(llm_url: str, cap: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workflowsite.settings",
        "DJANGO_SECRET_KEY": "weft-bench-fairness-secret-key-not-for-production-0",
        "DJANGO_DEBUG": "false",
        "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "DATABASE_URL": f"{PG_SERVER}/{BENCH_DB}",
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": REDIS_URL,
        "DRAMATIQ_BROKER_URL": REDIS_URL,
        "WEFT_INPROCESS_WORKER": "false",
        "RUN_MAX_ACTIVE_PER_USER": str(UNLIMITED),
        "RUN_MAX_RUNNING_PER_USER": str(cap),
        "GEMINI_API_KEY": "fake-key",
        "GEMINI_BASE_URL": llm_url,
        "GROQ_API_KEY": "",
        "LLM_MAX_ATTEMPTS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare(env: dict[str, str]) -> None:
    prepare_database(env, BENCH_DB)
    os.environ.update(env)
    import django

    django.setup()


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"not done within {timeout:g} s")
        time.sleep(0.05)


def measure(*, runs: int, cap: int, env: dict[str, str]) -> dict[str, float]:
    from django.conf import settings
    from django.db import connection

    from accounts.models import User
    from runs.models import RunStatus, WorkflowRun
    from runs.services import run_create

    settings.RUN_MAX_RUNNING_PER_USER = cap  # this process admits A's and B's runs as the workers do
    alice, _ = User.objects.get_or_create(email="a@bench.example.com")
    bob, _ = User.objects.get_or_create(email="b@bench.example.com")
    WorkflowRun.objects.filter(owner__in=[alice, bob]).delete()
    redis_forget(NAMESPACE)
    connection.close()
    workers = start_group(
        [sys.executable, "manage.py", "rundramatiq", "--processes", "2", "--threads", "4"], {**env}
    )
    try:
        warm = run_create(owner=alice, graph=text_llm_chain(2, text="warm up"))
        wait_until(lambda: WorkflowRun.objects.get(pk=warm.pk).status == RunStatus.SUCCEEDED, 60)
        warm.delete()
        stamp = time.time_ns()  # distinct prompts: no run reuses another's result
        burst = [run_create(owner=alice, graph=text_llm_chain(2, text=f"a {stamp} {i}")) for i in range(runs)]
        bobs = run_create(owner=bob, graph=text_llm_chain(2, text=f"b {stamp}"))
        mine = WorkflowRun.objects.filter(owner__in=[alice, bob])
        wait_until(lambda: not mine.exclude(status=RunStatus.SUCCEEDED).exists(), 60 + runs)
    finally:
        connection.close()
        stop_group(workers)
    done = {run.pk: run for run in WorkflowRun.objects.filter(owner__in=[alice, bob])}
    b = done[bobs.pk]
    a_runs = [done[run.pk] for run in burst]
    first_created = min(run.created_at for run in a_runs)
    last_completed = max(run.completed_at for run in a_runs)
    return {
        "b_wait_s": (b.started_at - b.created_at).total_seconds(),
        "run_s": statistics.median(run.duration_ms for run in a_runs) / 1000,
        "a_runs_per_s": runs / (last_completed - first_created).total_seconds(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="runs in A's burst")
    parser.add_argument("--cap", type=int, default=8, help="RUN_MAX_RUNNING_PER_USER with fairness on")
    parser.add_argument("--latency", type=float, default=0.2, help="the node's duration, seconds")
    args = parser.parse_args()

    with FakeLLMServer(latency_s=args.latency) as llm:
        prepare(django_env(llm.url, args.cap))
        results = {
            "on": measure(runs=args.runs, cap=args.cap, env=django_env(llm.url, args.cap)),
            "off": measure(runs=args.runs, cap=UNLIMITED, env=django_env(llm.url, UNLIMITED)),
        }

    print(
        f"\nA: {args.runs} runs of a {args.latency:g} s node, then B: one; 2 worker processes x 4 threads, "
        f"Redis, PostgreSQL; {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
    )
    print("| fairness | B's wait | one run (median) | B's wait / one run | A's throughput |")
    print("|---|---|---|---|---|")
    for mode, figures in results.items():
        label = f"on (cap {args.cap})" if mode == "on" else "off"
        ratio = figures["b_wait_s"] / figures["run_s"]
        print(
            f"| {label} | {figures['b_wait_s']:.3f} s | {figures['run_s']:.3f} s | {ratio:.1f}x "
            f"| {figures['a_runs_per_s']:.1f} runs/s |"
        )
    on = results["on"]
    met = on["b_wait_s"] <= 2 * on["run_s"]
    print(f"\ngoal (fairness on): B's wait <= 2x one run: {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
