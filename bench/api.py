"""API throughput: each endpoint against a bare Django view, served as in production (gunicorn + uvicorn).

    .venv/bin/python -m bench.api [--duration 5] [--connections 16]

gunicorn with 2 uvicorn workers (the README's production command; production settings from
`bench/api_settings.py`: the product's settings plus a bare view `GET /bench/bare` doing one `SELECT 1`) on
PostgreSQL and Redis. Seeds one user with an API
token, 200 workflows, a finished run with 20 node results and 200 log lines, and a running run; then
drives each endpoint with `wrk` (Debian package `wrk`) for --duration seconds at --connections, token
authentication, and prints requests/s, p50/p99 latency and the ratio to the bare view measured in the
same run (each endpoint right after a bare-view window of its own, the ratio to that one), and the CPU
time gunicorn's workers spent per request in each window (from /proc: steadier than requests/s on a
shared machine; the ratio of CPU per request is what the requests/s ratio is on an idle one). Query
counts per request are measured in this process with Django's test client, cold (empty cache) and warm.

Needs PostgreSQL (BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/8). Its database has a unique name and is dropped at the end; its cache
keys are deleted. No Dramatiq worker runs: executions stay queued (their messages are deleted too).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.load import (
    close_django_connections,
    create_database,
    drop_database,
    free_port,
    serve_settings,
    start_group,
    stop_group,
    wait_health,
)

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
GUNICORN_OPTIONS = ["--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2", "--timeout", "60"]
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class Measured:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    cpu_ms_per_request: float = 0.0


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, *, token: str | None, duration: float, connections: int, lua: Path | None) -> Measured:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s", "--timeout", "10s"]
    command.append("--latency")
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if lua:
        command += ["-s", str(lua)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Measured(
        requests_per_s=rate,
        p50_ms=p50,
        p99_ms=p99,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of gunicorn's worker processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as handle:
        workers = [int(pid) for pid in handle.read().split()]
    total = 0
    for pid in workers:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def seed() -> tuple[str, dict[str, str]]:
    """One user, a token, 200 workflows, a finished run (20 results, 200 logs) and a running run."""
    from django.utils import timezone

    from accounts.services import api_token_create
    from runs.models import ExecutionLog, NodeResult, RunStatus
    from tests.factories import UserFactory, WorkflowFactory, WorkflowRunFactory
    from tests.graphs import edge, node

    user = UserFactory(email="bench-api@example.com")
    token = api_token_create(owner=user, name="bench").secret
    workflows = [WorkflowFactory(owner=user, name=f"Workflow {i:03d}") for i in range(200)]
    nodes = [node("n00", "text", text="hello")] + [
        node(f"n{i:02d}", "prompt", template="{{previous}} more") for i in range(1, 20)
    ]
    edges = [edge(f"n{i - 1:02d}", f"n{i:02d}", "text", "previous") for i in range(1, 20)]
    now = timezone.now()
    finished = WorkflowRunFactory(
        owner=user,
        workflow=workflows[0],
        nodes=nodes,
        edges=edges,
        status=RunStatus.SUCCEEDED,
        started_at=now,
        completed_at=now,
        succeeded_nodes=20,
        duration_ms=40,
    )
    NodeResult.objects.bulk_create(
        NodeResult(
            run=finished,
            node_id=n["id"],
            node_type=n["type"],
            status="succeeded",
            inputs={"previous": "x" * 40},
            output={"text": "y" * 60},
            started_at=now,
            duration_ms=1,
        )
        for n in nodes
    )
    ExecutionLog.objects.bulk_create(
        ExecutionLog(run=finished, node_id=nodes[i % 20]["id"], level="info", message=f"log line {i}")
        for i in range(200)
    )
    running = WorkflowRunFactory(
        owner=user,
        workflow=workflows[1],
        nodes=nodes,
        edges=edges,
        status=RunStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        succeeded_nodes=5,
    )
    NodeResult.objects.bulk_create(
        NodeResult(
            run=running,
            node_id=n["id"],
            node_type=n["type"],
            status="succeeded",
            output={"text": "z"},
            started_at=now,
        )
        for n in nodes[:5]
    )
    paths = {
        "GET /api/health": "/api/health",
        "GET /api/workflows?limit=20": "/api/workflows?limit=20",
        "GET /api/workflows/{id}": f"/api/workflows/{workflows[0].id}",
        "GET /api/runs?limit=20": "/api/runs?limit=20",
        "GET /api/runs/{id} (finished)": f"/api/runs/{finished.id}",
        "GET /api/runs/{id} (running)": f"/api/runs/{running.id}",
    }
    return token, paths


EXECUTE_BODY = {
    "nodes": [
        {"id": "a", "type": "text", "position": {"x": 0, "y": 0}, "data": {"text": "hello"}},
        {"id": "b", "type": "debug", "position": {"x": 200, "y": 0}, "data": {}},
    ],
    "edges": [{"id": "e", "source": "a", "sourceHandle": "text", "target": "b", "targetHandle": "value"}],
}


def query_counts(token: str, paths: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Queries per request, (cold cache, warm cache), through Django's test client in this process."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts: dict[str, tuple[int, int]] = {}
    for name, path in {**paths, "GET /api/workflows?limit=5": "/api/workflows?limit=5"}.items():
        if name != "GET /api/health":
            cache.clear()
        per_pass = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            per_pass.append(len(captured))
        counts[name] = (per_pass[0], per_pass[1])
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/execute", EXECUTE_BODY, content_type="application/json")
    assert response.status_code == 202, response.content
    counts["POST /api/execute"] = (len(captured), len(captured))
    return counts


def profile(token: str, paths: dict[str, str], *, requests: int, top: int, sort: str) -> None:
    """Where a request's time goes: cProfile over the WSGI application in this process (no gunicorn)."""
    import cProfile
    import io
    import pstats

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    body = json.dumps(EXECUTE_BODY).encode()

    def call(method: str, path: str) -> None:
        route, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": route,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body if method == "POST" else b""),
        }
        if method == "POST":
            environ |= {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}
        chunks = application(environ, lambda status, headers: None)
        b"".join(chunks)
        chunks.close()

    targets = [("GET", "/bench/bare")] + [("GET", p) for p in paths.values()] + [("POST", "/api/execute")]
    for method, path in targets:
        call(method, path)  # warm caches and connections
        started = time.perf_counter()
        for _ in range(requests):
            call(method, path)
        plain = (time.perf_counter() - started) / requests * 1000
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(requests):
            call(method, path)
        profiler.disable()
        per_request = (time.perf_counter() - started) / requests * 1000
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
        print(f"\n=== {method} {path}: {plain:.2f} ms per request in-process", end="")
        print(f" ({per_request:.2f} ms under cProfile)")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-(top + 2) * 200 :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile N requests per endpoint in-process"
    )
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile")
    parser.add_argument("--sort", default="tottime", help="pstats sort key for --profile (cumulative, ...)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2

    db_name = f"weft_bench_api_{uuid.uuid4().hex[:10]}"
    cache_prefix = f"weft-api-{uuid.uuid4().hex[:8]}"
    logs = Path(tempfile.mkdtemp(prefix="weft-api-"))
    gunicorn_process: subprocess.Popen | None = None
    database_created = False
    try:
        create_database(db_name)
        database_created = True
        env = serve_settings(
            settings_module="bench.api_settings",
            database_url=f"{PG_SERVER}/{db_name}",
            redis_url=REDIS_URL,
            cache_prefix=cache_prefix,
            EXECUTE_RATE_LIMIT="10000000/m",
            RUN_MAX_ACTIVE_PER_USER="10000000",
        )
        from django.conf import settings
        from django.db import connection

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        token, paths = seed()
        queries = query_counts(token, paths)
        if args.profile:
            profile(token, paths, requests=args.profile, top=args.top, sort=args.sort)
            return 0
        connection.close()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        gunicorn_process = start_group(
            [gunicorn, "workflowsite.asgi:application", "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTIONS],
            env,
            logs / "gunicorn.log",
        )
        wait_health(base, time.monotonic() + 30)
        post_script = logs / "execute.lua"
        post_script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(EXECUTE_BODY))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )

        def measure(path: str, lua: Path | None = None) -> Measured:
            # A short warm-up fills connection pools and caches before the measured window.
            wrk(base + path, token=token, duration=1, connections=args.connections, lua=lua)
            cpu_before = server_cpu_seconds(gunicorn_process.pid)
            result = wrk(
                base + path, token=token, duration=args.duration, connections=args.connections, lua=lua
            )
            cpu = server_cpu_seconds(gunicorn_process.pid) - cpu_before
            served = result.requests_per_s * args.duration
            return dataclasses.replace(result, cpu_ms_per_request=cpu * 1000 / max(served, 1))

        # The machine is shared: each endpoint is measured right after a bare-view window of its own, and
        # its ratio is to that one.
        targets: dict[str, tuple[str, Path | None]] = {name: (path, None) for name, path in paths.items()}
        targets["POST /api/execute"] = ("/api/execute", post_script)
        results = {}
        for name, (path, lua) in targets.items():
            results[name] = (measure("/bench/bare"), measure(path, lua))

        print(
            f"\ngunicorn 2 uvicorn workers, production settings, PostgreSQL, Redis; wrk {args.connections} "
            f"connections, {args.duration:g} s per window; {os.cpu_count()} CPUs; "
            f"{time.strftime('%Y-%m-%d %H:%M %Z')}\n"
        )
        print(
            "| endpoint | requests/s | bare view just before | % of bare | server CPU ms/request (bare) "
            "| % of bare by CPU | p50 ms | p99 ms | non-2xx / socket errors | queries cold / warm |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, (bare, result) in results.items():
            cold, warm = queries[name]
            print(
                f"| {name} | {result.requests_per_s:,.0f} | {bare.requests_per_s:,.0f} "
                f"| {result.requests_per_s / bare.requests_per_s:.0%} "
                f"| {result.cpu_ms_per_request:.2f} ({bare.cpu_ms_per_request:.2f}) "
                f"| {bare.cpu_ms_per_request / result.cpu_ms_per_request:.0%} "
                f"| {result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.non_2xx} / {result.errors} "
                f"| {cold} / {warm} |"
            )
        bare_p99 = max(bare.p99_ms for bare, _ in results.values())
        print(f"\nbare view: 1 query; its worst p99 in this run: {bare_p99:.1f} ms")
        cold, warm = queries["GET /api/workflows?limit=5"]
        print(f"\nqueries for GET /api/workflows?limit=5 (page size constant?): {cold} / {warm}")
        if args.keep_logs:
            print(f"\ngunicorn log: {logs / 'gunicorn.log'}")
        return 0
    finally:
        if gunicorn_process is not None:
            stop_group(gunicorn_process)
        close_django_connections()
        if database_created:
            drop_database(db_name)
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for prefix in ("dramatiq", cache_prefix):
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)


if __name__ == "__main__":
    sys.exit(main())
