"""Live run streams: (a) how long a token takes from the fake LLM server to an SSE client, and (b) how many
idle event streams one web process holds while GET /api/health stays under 50 ms p99.

    .venv/bin/python -m bench.stream [--runs 5] [--words 200] [--levels 100,250,500,1000]

(a) The run executes in this process (the real google-genai SDK against tests/fakes/llm_server.py, which
streams its answer one word per chunk, 10 ms apart) and publishes to Redis; one gunicorn process with one
uvicorn worker serves GET /api/runs/{id}/events; an httpx client here reads it. The fake server records
when each chunk left it and the client when each token event arrived, on the same monotonic clock.
(b) The same web process; N clients each open the stream of a queued run (which never starts, so every
stream idles on its Redis read), then 200 sequential GET /api/health are timed; N grows per level.

Needs PostgreSQL (BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/7). It creates a database with a unique name and drops it at the end, and
deletes its Redis keys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.load import ROOT, create_database, drop_database

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
HEALTH_GOAL_MS = 50.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    args = ["-m", "gunicorn", "workflowsite.asgi:application", "-k", "uvicorn_worker.UvicornWorker"]
    args += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--backlog", "4096"]
    process = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def token_latencies(base: str, token: str, owner: Any, fake: Any, *, runs: int, words: int) -> list[float]:
    from django.db import connection

    from runs.driving import run_execute
    from runs.services import run_create
    from tests.graphs import edge, node
    from tests.sse import read_events

    prompt = " ".join(f"w{i}" for i in range(words))
    graph = {
        "nodes": [node("a", "text", text=prompt), node("b", "llm")],
        "edges": [edge("a", "b", "text", "prompt")],
    }
    latencies: list[float] = []
    for _ in range(runs):
        fake.reset()
        fake.chunk_delay_s = 0.01
        run = run_create(owner=owner, graph=graph, enqueue=False)
        arrivals: list[float] = []
        connected = threading.Event()

        def subscribe(
            run_id: str = str(run.id),
            arrivals: list[float] = arrivals,
            connected: threading.Event = connected,
        ) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.stream(
                "GET", f"{base}/api/runs/{run_id}/events", headers=headers, timeout=60
            ) as response:
                connected.set()
                for event in read_events(response):
                    if event.type == "token":
                        arrivals.append(event.at)
                    if event.type == "end":
                        return

        reader = threading.Thread(target=subscribe)
        reader.start()
        connected.wait(30)
        run_execute(run_id=str(run.id))
        reader.join(60)
        connection.close()
        sent = [chunk.at for chunk in fake.chunks_sent]
        if len(sent) != len(arrivals):
            raise SystemExit(f"{len(sent)} chunks sent but {len(arrivals)} tokens received")
        latencies += [(got - left) * 1000 for left, got in zip(sent, arrivals, strict=True)]
    return latencies


async def hold_streams(base: str, token: str, run_id: str, count: int, clients: list[Any]) -> None:
    """Open `count` more idle streams (kept in `clients`) and wait until the server has answered each."""

    async def open_one() -> None:
        client = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1))
        request = client.build_request(
            "GET", f"{base}/api/runs/{run_id}/events", headers={"Authorization": f"Bearer {token}"}
        )
        response = await client.send(request, stream=True)
        if response.status_code != 200:
            raise SystemExit(f"a stream answered {response.status_code}")
        clients.append((client, response))

    for start in range(0, count, 50):  # in batches, as browsers would arrive, not in one burst
        await asyncio.gather(*(open_one() for _ in range(min(50, count - start))))


async def health_latencies(base: str, samples: int) -> list[float]:
    found = []
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(samples):
            started = time.perf_counter()
            response = await client.get(f"{base}/api/health")
            found.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"/api/health answered {response.status_code}")
    return found


async def idle_streams(
    base: str, token: str, run_id: str, levels: list[int]
) -> list[tuple[int, float, float]]:
    clients: list[Any] = []
    rows = []
    try:
        for level in levels:
            await hold_streams(base, token, run_id, level - len(clients), clients)
            await asyncio.sleep(1)  # let the streams settle into their idle reads
            found = await health_latencies(base, 200)
            rows.append((len(clients), percentile(found, 50), percentile(found, 99)))
            _, p50, p99 = rows[-1]
            print(
                f"  {len(clients)} streams open: /api/health p50 {p50:.1f} ms, p99 {p99:.1f} ms", flush=True
            )
    finally:
        await asyncio.gather(*(client.aclose() for client, _ in clients), return_exceptions=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--levels", default="0,100,250,500,1000")
    options = parser.parse_args()
    levels = [int(level) for level in options.levels.split(",")]

    database = f"weft_bench_stream_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workflowsite.test_settings",
        "DATABASE_URL": f"{PG_SERVER}/{database}",
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "RUN_EVENTS_HEARTBEAT_SECONDS": "15",
        # (b) measures what one process holds, so one user may open them all.
        "RUN_EVENTS_MAX_STREAMS_PER_USER": str(max(levels) + 1),
    }
    create_database(database)
    os.environ.update(env)
    server = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        import django

        django.setup()
        from django.conf import settings

        from accounts.services import api_token_create
        from runs.services import run_create
        from tests.factories import UserFactory
        from tests.fakes.llm_server import FakeLLMServer
        from tests.graphs import text_to_debug_graph

        fake = FakeLLMServer().start()
        settings.GEMINI_API_KEY = "bench"
        settings.GEMINI_BASE_URL = fake.url
        settings.GROQ_API_KEY = None
        settings.LLM_MAX_ATTEMPTS = 1
        owner = UserFactory(email=f"bench-{uuid.uuid4().hex[:6]}@example.com")
        token = api_token_create(owner=owner, name="bench").secret
        port = 18000 + os.getpid() % 1000
        server = start_server(env, port, Path(f"/tmp/{database}.log"))
        base = f"http://127.0.0.1:{port}"

        print(f"(a) token latency: {options.runs} runs x {options.words} streamed words", flush=True)
        latencies = token_latencies(base, token, owner, fake, runs=options.runs, words=options.words)
        print("(b) idle streams while timing /api/health", flush=True)
        idle_run = run_create(owner=owner, graph=text_to_debug_graph(), enqueue=False)  # stays queued
        rows = asyncio.run(idle_streams(base, token, str(idle_run.id), levels))
        fake.stop()

        held = max((count for count, _, p99 in rows if count and p99 < HEALTH_GOAL_MS), default=0)
        print()
        print("| measure | value | goal |")
        print("|---|---|---|")
        p50 = percentile(latencies, 50)
        print(f"| token, fake LLM -> SSE client, p50 | {p50:.1f} ms ({len(latencies)} tokens) | |")
        print(f"| token, fake LLM -> SSE client, p99 | {percentile(latencies, 99):.1f} ms | |")
        print(f"| token mean / max | {statistics.mean(latencies):.1f} / {max(latencies):.1f} ms | |")
        for count, p50, p99 in rows:
            row = f"| /api/health with {count} idle streams, p50 / p99 | {p50:.1f} / {p99:.1f} ms |"
            print(f"{row} p99 < 50 ms |")
        verdict = "met" if held >= 500 else "**not met**"
        print(
            f"| idle streams held with /api/health p99 < 50 ms | {held} (of those tried) | 500: {verdict} |"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter("weft:run-events:*"))
        if keys:
            client.delete(*keys)
        drop_database(database)


if __name__ == "__main__":
    main()
