"""Load: 200 concurrent executions from 20 users against gunicorn (2 uvicorn workers) and 2 Dramatiq worker
processes on PostgreSQL and Redis, with the fake LLM server in its own process. Afterwards every run must
be finished, every node must have exactly one result, and no request may have answered 5xx; it prints
p50/p99 latency of `POST /api/execute` and `GET /api/runs/{id}`.

    .venv/bin/python -m bench.load [--users 20] [--runs-per-user 10] [--threads 8] [--latency 0.05]

Needs PostgreSQL (BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/7, a database number of its own). It creates a database with a unique name
and drops it at the end; its Redis keys (Dramatiq queues, cache, rate-limit counters) are deleted too.
Traffic goes to 127.0.0.1 only. The whole script is bounded by --timeout (180 s): past that it tears
everything down and exits non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ENCRYPTION_KEY
from tests.graphs import edge, node

ROOT = Path(__file__).resolve().parents[1]

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
FINISHED = {"succeeded", "failed", "cancelled"}
# As the Dockerfile serves it.
GUNICORN_OPTIONS = ["--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2", "--timeout", "60"]


class Overtime(Exception):
    """The script's hard time bound passed."""


@dataclass
class Timings:
    """Latencies (seconds) and statuses of one endpoint's requests, appended from many threads."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1

    def percentile(self, p: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(p) - 1]

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def graph_for(user_index: int, run_index: int) -> dict[str, Any]:
    """Text -> LLM -> LLM -> Debug: two provider calls in sequence, four node results."""
    return {
        "nodes": [
            node("a", "text", text=f"user {user_index} run {run_index}"),
            node("b", "llm"),
            node("c", "llm"),
            node("d", "debug"),
        ],
        "edges": [
            edge("a", "b", "text", "prompt"),
            edge("b", "c", "text", "prompt"),
            edge("c", "d", "text", "value"),
        ],
    }


def request(url: str, token: str, body: Any = None, timeout: float = 30) -> tuple[int, Any, float]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    elapsed = time.perf_counter() - started
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw[:200]
    return status, payload, elapsed


def serve_fake_llm(urls: multiprocessing.Queue, stop: multiprocessing.Event, latency_s: float) -> None:
    from tests.fakes.llm_server import FakeLLMServer

    with FakeLLMServer(latency_s=latency_s) as server:
        urls.put(server.url)
        stop.wait()


@contextlib.contextmanager
def fake_llm_process(latency_s: float = 0.0) -> Iterator[str]:
    """The fake LLM server in a process of its own, so that its CPU is not counted as the run's."""
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=serve_fake_llm, args=(urls, stop, latency_s), daemon=True)
    process.start()
    try:
        yield urls.get(timeout=10)
    finally:
        stop.set()
        process.join(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_group(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """`sig` to the process group (SIGKILL for a crash), then SIGKILL if it has not ended within 20 s."""
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_health(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise Overtime("the server did not answer /api/health")


def redis_forget(prefixes: list[str]) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for prefix in prefixes:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)


def close_django_connections() -> None:
    """Close this process's database connections (if Django was set up): its database can then be dropped."""
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: S110 -- Django may never have been set up
        pass


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve_settings(
    *, settings_module: str, database_url: str, redis_url: str, cache_prefix: str, **overrides: str
) -> dict[str, str]:
    """The environment of a production-settings server on PostgreSQL and Redis, migrated, and this
    process set up with it (so the benchmark can seed data through the ORM)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_SECRET_KEY": "weft-bench-secret-key-not-for-production-0123456789abcdef",
        "DJANGO_DEBUG": "false",
        "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DRAMATIQ_BROKER_URL": redis_url,
        "CACHE_KEY_PREFIX": cache_prefix,
        "WEFT_INPROCESS_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **overrides,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--runs-per-user", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8, help="threads per Dramatiq worker process")
    parser.add_argument("--latency", type=float, default=0.05, help="fake LLM latency per call, seconds")
    parser.add_argument("--timeout", type=float, default=180.0, help="hard bound on the whole script")
    parser.add_argument("--keep-logs", action="store_true", help="print where the process logs are")
    args = parser.parse_args()

    started_at = time.monotonic()
    deadline = started_at + args.timeout

    def overtime(signum: int, frame: Any) -> None:
        raise Overtime(f"the hard time bound of {args.timeout:g} s passed")

    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(int(args.timeout) + 1)

    db_name = f"weft_bench_load_{uuid.uuid4().hex[:10]}"
    cache_prefix = f"weft-load-{uuid.uuid4().hex[:8]}"
    logs = Path(tempfile.mkdtemp(prefix="weft-load-"))
    processes: list[subprocess.Popen] = []
    llm_stop = multiprocessing.Event()
    llm_process: multiprocessing.Process | None = None
    database_created = False
    try:
        create_database(db_name)
        database_created = True
        redis_forget(["dramatiq"])  # a previous, interrupted run's queues in our private database

        urls: multiprocessing.Queue = multiprocessing.Queue()
        llm_process = multiprocessing.Process(
            target=serve_fake_llm, args=(urls, llm_stop, args.latency), daemon=True
        )
        llm_process.start()
        llm_url = urls.get(timeout=10)

        env = serve_settings(
            settings_module="workflowsite.settings",
            database_url=f"{PG_SERVER}/{db_name}",
            redis_url=REDIS_URL,
            cache_prefix=cache_prefix,
            GEMINI_API_KEY="bench-fake-key",
            GEMINI_BASE_URL=llm_url,
            GROQ_API_KEY="",
            LLM_TIMEOUT_SECONDS="20",
            EXECUTE_RATE_LIMIT="100000/m",
            RUN_MAX_ACTIVE_PER_USER="100000",
        )
        from django.db import connection

        from accounts.models import User
        from accounts.services import api_token_create

        tokens = []
        for i in range(args.users):
            user = User.objects.create_user(email=f"load-{i}@example.com", password=None)
            tokens.append(api_token_create(owner=user, name="load").secret)
        connection.close()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        processes.append(
            start_group(
                [gunicorn, "workflowsite.asgi:application", "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTIONS],
                env,
                logs / "gunicorn.log",
            )
        )
        processes.append(
            start_group(
                [
                    sys.executable,
                    "manage.py",
                    "rundramatiq",
                    "--processes",
                    "2",
                    "--threads",
                    str(args.threads),
                ],
                env,
                logs / "dramatiq.log",
            )
        )
        wait_health(base, min(deadline, time.monotonic() + 30))

        # Fire every execution at once: one thread per request.
        execute = Timings()
        total = args.users * args.runs_per_user
        jobs = [(u, r) for r in range(args.runs_per_user) for u in range(args.users)]
        run_ids: list[str] = []
        owner_token: dict[str, str] = {}
        failures: list[tuple[int, Any]] = []
        barrier = threading.Barrier(total)

        def fire(job: tuple[int, int]) -> None:
            user_index, run_index = job
            barrier.wait(timeout=30)
            status, payload, elapsed = request(
                f"{base}/api/execute", tokens[user_index], graph_for(user_index, run_index)
            )
            execute.add(status, elapsed)
            if status == 202:
                run_ids.append(payload["runId"])
                owner_token[payload["runId"]] = tokens[user_index]
            else:
                failures.append((status, payload))

        wall_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=total) as pool:
            list(pool.map(fire, jobs))
        # Poll every unfinished run until all are finished or the time bound nears.
        detail = Timings()
        final: dict[str, Any] = {}
        pending = set(run_ids)

        def poll(run_id: str) -> None:
            status, payload, elapsed = request(f"{base}/api/runs/{run_id}", owner_token[run_id])
            detail.add(status, elapsed)
            if status == 200 and payload["status"] in FINISHED:
                final[run_id] = payload

        poll_deadline = deadline - 20  # leave time to tear down
        with ThreadPoolExecutor(max_workers=args.users) as pool:
            while pending and time.monotonic() < poll_deadline:
                list(pool.map(poll, sorted(pending)))
                pending -= final.keys()
                if pending:
                    time.sleep(0.2)
        wall = time.perf_counter() - wall_started

        # Every node of every finished run has exactly one result, in the API and in the database.
        bad_results = 0
        for payload in final.values():
            per_node = Counter(result["nodeId"] for result in payload["nodeResults"])
            expected = {n["id"] for n in payload["nodes"]}
            if set(per_node) != expected or any(count != 1 for count in per_node.values()):
                bad_results += 1
        from django.db.models import Count

        from runs.models import NodeResult, WorkflowRun

        duplicated = (
            NodeResult.objects.values("run_id", "node_id").annotate(n=Count("id")).filter(n__gt=1).count()
        )
        statuses = Counter(WorkflowRun.objects.values_list("status", flat=True))
        # Queue wait plus execution, as a user waiting for the result sees it.
        turnaround = Timings()
        for created, completed in WorkflowRun.objects.exclude(completed_at=None).values_list(
            "created_at", "completed_at"
        ):
            turnaround.add(0, (completed - created).total_seconds())
        connection.close()

        rows = [
            ("runs requested (users x runs each)", f"{total} ({args.users} x {args.runs_per_user})"),
            (
                "POST /api/execute: requests / 202 / other",
                f"{sum(execute.statuses.values())} / "
                f"{execute.statuses[202]} / {sum(execute.statuses.values()) - execute.statuses[202]}",
            ),
            (
                "POST /api/execute p50 / p99",
                f"{execute.percentile(50) * 1000:,.0f} ms / {execute.percentile(99) * 1000:,.0f} ms",
            ),
            ("GET /api/runs/{id}: requests", f"{sum(detail.statuses.values()):,}"),
            (
                "GET /api/runs/{id} p50 / p99",
                f"{detail.percentile(50) * 1000:,.0f} ms / {detail.percentile(99) * 1000:,.0f} ms",
            ),
            (
                "run created -> completed p50 / p99",
                f"{turnaround.percentile(50):,.1f} s / {turnaround.percentile(99):,.1f} s",
            ),
            ("5xx answers (all requests)", f"{execute.server_errors + detail.server_errors}"),
            ("runs finished / total", f"{len(final)} / {len(run_ids)}"),
            ("run statuses in the database", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))),
            ("runs whose nodes do not have exactly one result each", f"{bad_results}"),
            ("duplicated (run, node) results in the database", f"{duplicated}"),
            ("wall time, first request to last run finished", f"{wall:.1f} s"),
        ]
        print(
            f"\ngunicorn 2 uvicorn workers, rundramatiq 2 processes x {args.threads} threads, "
            f"PostgreSQL, Redis; fake LLM {args.latency * 1000:.0f} ms per call; "
            f"graph Text -> LLM -> LLM -> Debug; {os.cpu_count()} CPUs\n"
        )
        print("| measure | value |")
        print("|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")
        if args.keep_logs:
            print(f"\nprocess logs: {logs}")
        if failures:
            print(f"\nfirst refused executions: {failures[:3]}", file=sys.stderr)
        ok = (
            len(run_ids) == total
            and len(final) == total
            and bad_results == 0
            and duplicated == 0
            and execute.server_errors + detail.server_errors == 0
        )
        print("\nresult:", "PASS" if ok else "FAIL")
        return 0 if ok else 1
    except Overtime as exc:
        print(f"\nFAIL: {exc}; process logs in {logs}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
        for process in reversed(processes):
            stop_group(process)
        llm_stop.set()
        if llm_process is not None:
            llm_process.join(5)
        close_django_connections()
        if database_created:
            drop_database(db_name)
        redis_forget(["dramatiq", cache_prefix])


if __name__ == "__main__":
    sys.exit(main())
