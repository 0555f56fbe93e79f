"""Queue throughput: runs completed per second with Redis and 1, then 2 Dramatiq worker processes, next to
raw Dramatiq no-op messages per second on the same broker (the ceiling), and database writes per node.

    .venv/bin/python -m bench.queue [--runs 300] [--messages 5000] [--threads 4]

Needs PostgreSQL and Redis (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432; REDIS_URL,
default redis://127.0.0.1:6379/2). It creates and migrates a database of its own (weft_bench_queue) and
uses private Dramatiq namespaces, so nothing else is disturbed. Writes are PostgreSQL's row counters
(pg_stat_database) around the execution phase, after the workers closed their connections.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench import ENCRYPTION_KEY
from tests.graphs import graph, node

ROOT = Path(__file__).resolve().parents[1]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2")
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "weft_bench_queue"
NOOP_NAMESPACE = "weft-bench-noop"

# The no-op actor, on its own broker: `dramatiq bench.queue:NOOP_BROKER` serves it.
NOOP_BROKER = RedisBroker(url=REDIS_URL, namespace=NOOP_NAMESPACE)


@dramatiq.actor(broker=NOOP_BROKER, max_retries=0)
def noop() -> None:
    """Does nothing: what is left is Dramatiq's own cost per message."""


def start_group(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)


def stop_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def redis_forget(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}*"))
    if keys:
        client.delete(*keys)


def bench_noop(messages: int, threads: int) -> float:
    redis_forget(NOOP_NAMESPACE)
    dramatiq_bin = str(Path(sys.executable).parent / "dramatiq")
    command = [dramatiq_bin, "bench.queue:NOOP_BROKER", "--path", "."]
    workers = start_group(
        [*command, "--processes", "2", "--threads", str(threads)], {**os.environ, "PYTHONPATH": str(ROOT)}
    )
    try:
        for _ in range(200):  # warm up: workers booted and connected
            noop.send()
        NOOP_BROKER.join(noop.queue_name, interval=10, timeout=60_000)
        started = time.perf_counter()
        for _ in range(messages):
            noop.send()
        NOOP_BROKER.join(noop.queue_name, interval=10, timeout=300_000)
        return messages / (time.perf_counter() - started)
    finally:
        stop_group(workers)
        redis_forget(NOOP_NAMESPACE)


def django_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workflowsite.settings",
        "DJANGO_SECRET_KEY": "weft-bench-queue-secret-key-not-for-production-000",
        "DJANGO_DEBUG": "false",
        "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "DATABASE_URL": f"{PG_SERVER}/{BENCH_DB}",
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": REDIS_URL,
        "DRAMATIQ_BROKER_URL": REDIS_URL,
        "WEFT_INPROCESS_WORKER": "false",
        "RUN_MAX_ACTIVE_PER_USER": "1000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare_database(env: dict[str, str], database: str = BENCH_DB) -> None:
    """Create `database` if it is missing and migrate it, as `env` (whose DATABASE_URL names it) says."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True)


def row_writes() -> int:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        query = "SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = %s"
        inserted, updated, deleted = conn.execute(query, [BENCH_DB]).fetchone()
    return inserted + updated + deleted


def setup_django() -> None:
    env = django_env()
    prepare_database(env)
    os.environ.update(env)
    import django

    django.setup()


def bench_runs(runs: int, threads: int, processes: int) -> tuple[float, float]:
    env = django_env()
    from django.db import connection

    from accounts.models import User
    from runs.models import ACTIVE_RUN_STATUSES, RunStatus, WorkflowRun
    from runs.services import run_create
    from runs.tasks import execute_run

    user, _ = User.objects.get_or_create(email="bench@example.com")
    WorkflowRun.objects.filter(owner=user).delete()
    five_texts = graph([node(f"t{i}", "text", text=f"text {i}") for i in range(5)])
    warmup = [run_create(owner=user, graph=five_texts, enqueue=False) for _ in range(20)]
    measured = [run_create(owner=user, graph=five_texts, enqueue=False) for _ in range(runs)]
    connection.close()

    workers = start_group(
        [
            sys.executable,
            "manage.py",
            "rundramatiq",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ],
        env,
    )
    try:
        for run in warmup:
            execute_run.send(str(run.id))
        pending = WorkflowRun.objects.filter(owner=user, status__in=ACTIVE_RUN_STATUSES)
        while pending.filter(pk__in=[r.pk for r in warmup]).exists():
            time.sleep(0.05)
        connection.close()
        time.sleep(1.5)  # let the workers' statistics reach pg_stat_database
        writes_before = row_writes()
        started = time.perf_counter()
        for run in measured:
            execute_run.send(str(run.id))
        while pending.exists():
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
        stop_group(workers)
    time.sleep(1.5)
    writes = row_writes() - writes_before
    done = WorkflowRun.objects.filter(pk__in=[r.pk for r in measured], status=RunStatus.SUCCEEDED)
    succeeded = done.count()
    if succeeded != runs:
        raise SystemExit(f"only {succeeded} of {runs} runs succeeded")
    return runs / elapsed, writes / (runs * 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    args = parser.parse_args()

    setup_django()
    one_process, _ = bench_runs(args.runs, args.threads, processes=1)
    runs_per_s, writes_per_node = bench_runs(args.runs, args.threads, processes=2)
    noop_per_s = bench_noop(args.messages, args.threads)

    print(
        f"\nRedis broker, worker processes x {args.threads} threads, PostgreSQL; {os.cpu_count()} CPUs; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}\n"
    )
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| runs completed per second, 1 process (5 Text nodes, {args.runs} runs) | {one_process:,.1f} | |")
    print(f"| runs completed per second, 2 processes | {runs_per_s:,.1f} | |")
    scaling = runs_per_s / one_process
    print(f"| 2 processes / 1 process | {scaling:.2f} | >= 1.7: {'met' if scaling >= 1.7 else 'NOT met'} |")
    print(f"| nodes executed per second, 2 processes | {runs_per_s * 5:,.0f} | |")
    print(f"| raw Dramatiq no-op messages per second, 2 processes ({args.messages}) | {noop_per_s:,.0f} | |")
    share = runs_per_s / noop_per_s
    print(f"| runs / no-op messages | {share:.1%} | >= 10%: {'met' if share >= 0.1 else 'NOT met'} |")
    print(f"| database row writes per node (execution only, 2 processes) | {writes_per_node:.2f} | |")


if __name__ == "__main__":
    main()
