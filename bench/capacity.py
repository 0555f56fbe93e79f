"""Per-unit costs for capacity planning (docs/scaling.md): what one request and one run cost each tier.

    .venv/bin/python -m bench.capacity [--runs 30]

In one process, on PostgreSQL (BENCH_PG_SERVER; a database of its own, dropped at the end) and a private
redis-server on a free port (cache, broker and live event bus; its command counts are this benchmark's
alone), with Gemini on the fake LLM server (a process of its own) at zero latency:
- each API request (token authentication, Django's test client, the cache cold and warm): database
  statements, Redis commands, and CPU milliseconds in this process (requests/s per core, before the HTTP
  server's own cost, which `bench.api` measures under wrk); for `POST /api/execute` also the Python
  function calls per request (cProfile over --requests starts);
- a run of a 10-node workflow (Text, then Prompt -> LLM four times, then Debug: four model calls) started
  with `run_create` and executed with `run_execute`, as a worker thread does: statements and Redis commands
  per run (start and execution apart), and its CPU milliseconds, whence runs/s and nodes/s per worker
  thread when the model answers at once.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from bench import ENCRYPTION_KEY
from bench.load import ROOT, close_django_connections, create_database, drop_database, fake_llm_process
from tests.graphs import edge, graph, node
from tests.reliability.services import PrivateRedis

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
LLM_CALLS_PER_RUN = 4


def ten_node_workflow() -> dict[str, list]:
    nodes = [node("t", "text", text="capacity")]
    edges = []
    previous = "t"
    for i in range(LLM_CALLS_PER_RUN):
        nodes += [
            node(f"p{i}", "prompt", template="Go on: {{previous}}"),
            node(f"l{i}", "llm", temperature=0),
        ]
        edges += [edge(previous, f"p{i}", None, "previous"), edge(f"p{i}", f"l{i}", None, "prompt")]
        previous = f"l{i}"
    nodes.append(node("d", "debug"))
    edges.append(edge(previous, "d"))
    return graph(nodes, edges)


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of this benchmark's own (tests/reliability's), so that its command counts are ours."""
    workdir = Path(tempfile.mkdtemp(prefix="weft-bench-redis-"))
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server.url
    finally:
        server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


class Meter:
    """Database statements (this process's connection), Redis commands (the private server's counts) and
    CPU time (this process) spent by an action."""

    def __init__(self, redis_url: str) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.statements = 0

    def _redis_calls(self) -> int:
        stats = self.redis.info("commandstats")
        # The meter's own INFO calls are left out.
        return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")

    def measure(self, action: Callable[[], Any]) -> tuple[int, int, float]:
        from django.db import connection

        def count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
            self.statements += 1
            return execute(sql, params, many, context)

        self.statements = 0
        redis_before = self._redis_calls()
        cpu_before = time.process_time()
        with connection.execute_wrapper(count):
            action()
        cpu_ms = (time.process_time() - cpu_before) * 1000
        return self.statements, self._redis_calls() - redis_before, cpu_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200, help="warm requests timed per endpoint")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("redis-server is needed (apt-get install redis-server)")
        return 2

    db_name = f"weft_bench_capacity_{uuid.uuid4().hex[:10]}"
    create_database(db_name)
    try:
        with private_redis() as redis_url, fake_llm_process() as fake_llm_url:
            env = {
                **{k: v for k, v in os.environ.items() if k != "DRAMATIQ_BROKER_URL"},
                "DJANGO_SETTINGS_MODULE": "workflowsite.settings",
                "DJANGO_SECRET_KEY": "weft-bench-capacity-secret-key-not-for-production-0123456789",
                "DJANGO_DEBUG": "false",
                "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
                "DJANGO_ALLOWED_HOSTS": "testserver",
                "DATABASE_URL": f"{PG_SERVER}/{db_name}",
                "REDIS_URL": redis_url,
                "WEFT_INPROCESS_WORKER": "false",
                "GEMINI_API_KEY": "bench-key",
                "GEMINI_BASE_URL": fake_llm_url,
                "GROQ_API_KEY": "",
                "EXECUTE_RATE_LIMIT": "100000/m",
                "RUN_MAX_ACTIVE_PER_USER": "100000",
                "LOG_LEVEL": "WARNING",
            }
            migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
            subprocess.run(migrate, cwd=ROOT, env=env, check=True)
            os.environ.update(env)
            return measure_everything(args, redis_url)
    finally:
        close_django_connections()
        drop_database(db_name)


def measure_everything(args: argparse.Namespace, redis_url: str) -> int:
    import django

    django.setup()
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from accounts.services import api_token_create
    from runs.driving import run_execute
    from runs.models import RunStatus
    from runs.services import run_create
    from tests.factories import UserFactory, WorkflowFactory

    meter = Meter(redis_url)
    owner = UserFactory(email="bench-capacity@example.com")
    token = api_token_create(owner=owner, name="capacity").secret
    workflow = WorkflowFactory(owner=owner, **ten_node_workflow())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    # Runs first: the finished ones give the run endpoints something to show.
    workflow_graph = ten_node_workflow()
    start_costs, run_costs = [], []
    for _ in range(args.runs):
        created: list[Any] = []
        start_costs.append(
            meter.measure(lambda out=created: out.append(run_create(owner=owner, graph=workflow_graph)))
        )
        finished: list[Any] = []
        run_costs.append(
            meter.measure(lambda out=finished, run=created[0]: out.append(run_execute(run_id=str(run.id))))
        )
        assert finished[0].status == RunStatus.SUCCEEDED, finished[0].error_summary
    run_id = finished[0].id

    endpoints: list[tuple[str, str, Any]] = [
        ("GET", "/api/health", None),
        ("GET", "/api/workflows?limit=20", None),
        ("GET", f"/api/workflows/{workflow.id}", None),
        ("GET", "/api/runs?limit=20", None),
        ("GET", f"/api/runs/{run_id}", None),
        ("POST", "/api/execute", {"workflowId": str(workflow.id)}),
    ]
    rows = []
    calls = {}
    for method, path, body in endpoints:

        def call(method: str = method, path: str = path, body: Any = body) -> None:
            # secure: production settings redirect plain HTTP to HTTPS.
            if method == "POST":
                response = client.post(path, body, format="json", secure=True)
            else:
                response = client.get(path, secure=True)
            assert response.status_code in (200, 202), (path, response.status_code, response.content[:300])

        cache.clear()
        cold = meter.measure(call)
        warm = meter.measure(call)
        cpu = [meter.measure(call)[2] for _ in range(args.requests)]
        rows.append((f"{method} {path.split('?')[0]}", cold, warm, statistics.median(cpu)))
        calls[method, path] = call

    # Python function calls per start: what its CPU is made of, and a count a busy machine cannot skew.
    profile = cProfile.Profile()
    profile.runcall(lambda: [calls["POST", "/api/execute"]() for _ in range(args.requests)])
    start_calls = pstats.Stats(profile).total_calls / args.requests

    print(f"\nbench.capacity, {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs\n")
    print(
        "| request | statements cold / warm | Redis commands cold / warm | CPU ms, warm | requests/s/core |"
    )
    print("|---|---|---|---|---|")
    for name, cold, warm, cpu_ms in rows:
        name = name.replace(str(workflow.id), "{id}").replace(str(run_id), "{id}")
        counts = f"{cold[0]} / {warm[0]} | {cold[1]} / {warm[1]}"
        print(f"| {name} | {counts} | {cpu_ms:.2f} | {1000 / cpu_ms:,.0f} |")

    print(f"\nPOST /api/execute, warm: {start_calls:,.0f} Python function calls per request (cProfile)")

    def median(costs: list[tuple[int, int, float]], index: int) -> float:
        return statistics.median(cost[index] for cost in costs)

    run_cpu = median(run_costs, 2)
    nodes = len(ten_node_workflow()["nodes"])
    print(f"\n10-node run ({LLM_CALLS_PER_RUN} model calls at zero latency), median of {args.runs}\n")
    print("| cost per run | start (`run_create`) | execution (`run_execute`) |")
    print("|---|---|---|")
    print(f"| database statements | {median(start_costs, 0):.0f} | {median(run_costs, 0):.0f} |")
    print(f"| Redis commands | {median(start_costs, 1):.0f} | {median(run_costs, 1):.0f} |")
    print(f"| CPU ms in this process | {median(start_costs, 2):.1f} | {run_cpu:.1f} |")
    print(
        f"\nOne worker thread, models answering at once: {1000 / run_cpu:.1f} runs/s, "
        f"{nodes * 1000 / run_cpu:.0f} nodes/s of CPU (a model's latency holds the thread, not the CPU)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
