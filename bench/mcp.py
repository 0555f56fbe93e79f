"""What an MCP `tools/call` adds over `POST /api/workflows/{id}/runs` with `wait`, and MCP calls per second.

    .venv/bin/python -m bench.mcp [--calls 50] [--clients 8] [--duration 10]

gunicorn with one uvicorn worker (without Redis, workers share no MCP session registry) and the in-process
Dramatiq worker, on PostgreSQL with its own database (BENCH_PG_SERVER). One published Text -> Output
workflow, offered as a tool.
(a) --calls runs each way, alternating, one at a time: REST `wait` against `tools/call` on one open session,
client-side latency p50 / p95. (b) --clients MCP sessions calling the tool back to back for --duration s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from bench import ENCRYPTION_KEY
from bench.load import ROOT, create_database, drop_database, free_port, start_group, stop_group, wait_health

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")

_SEED = """
import django
django.setup()
from accounts.services import api_token_create
from mcp_server.services import workflow_tool_set
from tests.factories import UserFactory, WorkflowFactory
from tests.graphs import edge, graph, node
from workflows.services import workflow_publish

owner = UserFactory(email="bench-mcp@example.com")
nodes = [node("text", "text", text="hello"), node("out", "output", name="text")]
flow = graph(nodes, [edge("text", "out", "text", "value")])
workflow = WorkflowFactory(owner=owner, name="Echo", **flow)
workflow_publish(workflow=workflow)
workflow_tool_set(workflow=workflow, enabled=True, name="echo", description="Says hello.")
print(api_token_create(owner=owner, name="bench").secret, workflow.id)
"""


async def _session_call(session: ClientSession) -> float:
    started = time.perf_counter()
    result = await session.call_tool("echo", {})
    if result.is_error or result.structured_content != {"text": "hello"}:
        raise RuntimeError(f"tools/call answered {result}")
    return (time.perf_counter() - started) * 1000


async def _rest_call(http: httpx2.AsyncClient, url: str) -> float:
    started = time.perf_counter()
    response = await http.post(url, json={"inputs": {}, "wait": 30})
    if response.status_code != 200 or response.json()["outputs"] != {"text": "hello"}:
        raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text[:200]}")
    return (time.perf_counter() - started) * 1000


async def latency(base: str, token: str, workflow_id: str, calls: int) -> tuple[list[float], list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    rest_url = f"{base}/api/workflows/{workflow_id}/runs"
    rest, mcp = [], []
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{base}/mcp", http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        for _ in range(3):  # warm-up
            await _rest_call(http, rest_url)
            await _session_call(session)
        for _ in range(calls):
            rest.append(await _rest_call(http, rest_url))
            mcp.append(await _session_call(session))
    return rest, mcp


async def throughput(base: str, token: str, clients: int, duration: float) -> float:
    deadline = time.monotonic() + duration
    done = 0

    async def client() -> None:
        nonlocal done
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
            streamable_http_client(f"{base}/mcp", http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            while time.monotonic() < deadline:
                await _session_call(session)
                done += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.monotonic() - started)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="weft-mcp-"))
    db_name = f"weft_bench_mcp_{uuid.uuid4().hex[:10]}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DRAMATIQ_BROKER_URL"}},
        "DJANGO_SETTINGS_MODULE": "workflowsite.settings",
        "DJANGO_SECRET_KEY": "weft-bench-mcp-secret-key-not-for-production-0123456789abcdef",
        "DJANGO_DEBUG": "false",
        "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG_SERVER}/{db_name}",
        "WEFT_INPROCESS_WORKER": "true",
        "EXECUTE_RATE_LIMIT": "1000000/m",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    create_database(db_name)
    server = None
    try:
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        seeded = subprocess.run(
            [python, "-c", _SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        token, workflow_id = seeded.stdout.split()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = [str(Path(python).parent / "gunicorn"), "workflowsite.asgi:application", "--bind"]
        gunicorn += [f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "uvicorn_worker.UvicornWorker"]
        server = start_group(gunicorn, env, logs / "gunicorn.log")
        wait_health(base, time.monotonic() + 60)
        rest, mcp = asyncio.run(latency(base, token, workflow_id, args.calls))
        rate = asyncio.run(throughput(base, token, args.clients, args.duration))
    finally:
        if server is not None:
            stop_group(server)
        drop_database(db_name)
    added = statistics.median(mcp) - statistics.median(rest)
    print(
        f"\nText -> Output, published; gunicorn 1 uvicorn worker, in-process worker, PostgreSQL; "
        f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
    )
    print("| way | calls | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for way, values in [("POST /api/workflows/{id}/runs, wait", rest), ("MCP tools/call", mcp)]:
        print(f"| {way} | {len(values)} | {statistics.median(values):.1f} | {_p95(values):.1f} |")
    verdict = "met" if added <= 20 else "NOT met"
    print(f"\ntools/call adds {added:+.1f} ms at p50 (goal: at most +20 ms): {verdict}")
    print(f"{args.clients} concurrent MCP clients: {rate:.1f} calls/s over {args.duration:g} s")
    print(f"process logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
