"""Start latency: from `POST /api/execute` answering to the run's first node starting, on an idle worker.

    .venv/bin/python -m bench.start [--runs 20]

Three set-ups, one after another in one run, each gunicorn (2 workers) on PostgreSQL with its own database:
a `rundramatiq` worker (1 process, 2 threads) on Redis with Weft's broker (`runs.broker.PromptRedisBroker`),
the same with Dramatiq's stock Redis broker (the "before"), and no broker at all (the in-process worker
inside gunicorn). Each posts --runs Text -> Debug runs one at a time with a pause of 0.3-1.5 s before each,
so that the worker is idle, and compares the client's clock when the answer arrived with the first node's
`started_at` (same machine, same clock). Needs PostgreSQL (BENCH_PG_SERVER) and Redis (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg

from bench import ENCRYPTION_KEY
from bench.load import (
    ROOT,
    create_database,
    drop_database,
    free_port,
    request,
    start_group,
    stop_group,
    wait_health,
)
from tests.graphs import text_to_debug_graph

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def measure(*, label: str, settings_module: str, broker: bool, runs: int, logs: Path) -> list[float]:
    """Milliseconds from the answer to the first node's start, one per run."""
    db_name = f"weft_bench_start_{uuid.uuid4().hex[:10]}"
    cache_prefix = f"weft-start-{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen] = []
    create_database(db_name)
    try:
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DRAMATIQ_BROKER_URL"}},
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DJANGO_SECRET_KEY": "weft-bench-start-secret-key-not-for-production-0123456789abc",
            "DJANGO_DEBUG": "false",
            "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"{PG_SERVER}/{db_name}",
            "CACHE_KEY_PREFIX": cache_prefix,
            "WEFT_INPROCESS_WORKER": "false" if broker else "true",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        if broker:
            env |= {"REDIS_URL": REDIS_URL, "DRAMATIQ_BROKER_URL": REDIS_URL}
        python = sys.executable
        migrate = [python, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True)
        token = subprocess.run(
            [python, "-c", _SEED],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = str(Path(python).parent / "gunicorn")
        processes.append(
            start_group(
                [gunicorn, "workflowsite.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                env,
                logs / f"{label}-gunicorn.log",
            )
        )
        if broker:
            processes.append(
                start_group(
                    [python, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"],
                    env,
                    logs / f"{label}-dramatiq.log",
                )
            )
        wait_health(base, time.monotonic() + 60)
        answered: dict[str, float] = {}
        graph = text_to_debug_graph("start")
        for _ in range(2):  # warm-up: first requests load code in each process
            request(f"{base}/api/execute", token, graph)
        time.sleep(2)
        for _ in range(runs):
            time.sleep(random.uniform(0.3, 1.5))
            status, payload, _ = request(f"{base}/api/execute", token, graph)
            answered_at = time.time()
            if status != 202:
                raise RuntimeError(f"POST /api/execute answered {status}: {payload}")
            answered[payload["runId"]] = answered_at
        time.sleep(3)
        with psycopg.connect(f"{PG_SERVER}/{db_name}") as conn:
            rows = conn.execute(
                "SELECT run_id::text, min(started_at) FROM runs_noderesult WHERE run_id = ANY(%s::uuid[]) "
                "GROUP BY run_id",
                [list(answered)],
            ).fetchall()
        started: dict[str, datetime] = dict(rows)
        missing = set(answered) - set(started)
        if missing:
            raise RuntimeError(f"{len(missing)} runs never started a node ({label})")
        return [(started[run_id].timestamp() - answered[run_id]) * 1000 for run_id in answered]
    finally:
        for process in reversed(processes):
            stop_group(process)
        drop_database(db_name)


_SEED = """
import django
django.setup()
from accounts.services import api_token_create
from tests.factories import UserFactory
print(api_token_create(owner=UserFactory(email="bench-start@example.com"), name="bench").secret)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="weft-start-"))
    setups = [
        ("Redis worker, Weft's broker (idle)", "workflowsite.settings", True),
        ("Redis worker, Dramatiq's stock broker (idle)", "bench.stock_broker_settings", True),
        ("in-process worker (no broker)", "workflowsite.settings", False),
    ]
    results = {
        label: measure(label=f"setup{i}", settings_module=module, broker=broker, runs=args.runs, logs=logs)
        for i, (label, module, broker) in enumerate(setups)
    }
    print(
        f"\nPOST /api/execute answered -> first node started; Text -> Debug; {args.runs} runs each, one at a "
        f"time after 0.3-1.5 s idle; gunicorn 2 workers, PostgreSQL; {os.cpu_count()} CPUs; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}\n"
    )
    print("| set-up | p50 ms | p90 ms | max ms | goal |")
    print("|---|---|---|---|---|")
    goals = [50, None, 100]
    for (label, values), goal in zip(results.items(), goals, strict=True):
        p50 = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        verdict = "" if goal is None else f"p50 <= {goal} ms: {'met' if p50 <= goal else 'NOT met'}"
        print(f"| {label} | {p50:.0f} | {p90:.0f} | {max(values):.0f} | {verdict} |")
    print(f"\nprocess logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
