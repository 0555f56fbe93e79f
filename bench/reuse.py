"""Reuse: what an edit costs when unchanged nodes are reused, against running everything again.

    .venv/bin/python -m bench.reuse [--database-url postgres://...] [--concurrency 8]

A 30-node workflow: 9 branches of Text -> LLM -> LLM (temperature 0), a Prompt joining the 9 answers, an
LLM summarising them and a Debug node. The fake LLM server (200 ms per call) runs in its own process. The
workflow runs once; then one leaf (a branch's Text) is edited and the workflow runs again with
`reuse: auto` and with `reuse: none`, through the runs app (run_create + run_execute, results and reuse
lookups in the database). It prints LLM calls and wall time of both, and checks that `auto` calls exactly
the LLM nodes downstream of the edit.

By default it uses a fresh SQLite file in a temporary folder (no services needed); `--database-url` points
it at an empty PostgreSQL database instead (it is migrated, not dropped).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ENCRYPTION_KEY
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import edge, node

LATENCY_S = 0.2
BRANCHES = 9
EDITED = "q0"


def workflow() -> dict[str, list[dict[str, Any]]]:
    nodes = [node("join", "prompt", template=" ".join(f"{{{{a{i}}}}}" for i in range(BRANCHES)))]
    edges = []
    for i in range(BRANCHES):
        nodes += [
            node(f"q{i}", "text", text=f"question {i}"),
            node(f"l{i}", "llm", temperature=0),
            node(f"a{i}", "llm", temperature=0),
        ]
        edges += [edge(f"q{i}", f"l{i}", "text", "prompt"), edge(f"l{i}", f"a{i}", "text", "prompt")]
        edges.append(edge(f"a{i}", "join", "text", f"a{i}"))
    nodes += [node("summary", "llm", temperature=0), node("out", "debug")]
    edges += [edge("join", "summary", "text", "prompt"), edge("summary", "out", "text", "value")]
    assert len(nodes) == 30
    return {"nodes": nodes, "edges": edges}


def serve(urls: multiprocessing.Queue, counts: multiprocessing.Queue, stop: Any, ask: Any) -> None:
    with FakeLLMServer(latency_s=LATENCY_S) as server:
        urls.put(server.url)
        while not stop.is_set():
            if ask.wait(0.05):
                ask.clear()
                counts.put(len(server.requests))


def setup_django(database_url: str | None, folder: Path, *, debug: bool = True) -> None:
    """Django on `database_url` (else a SQLite file in `folder`), migrated. Without `debug`, as production
    runs: no query log kept for every statement."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.settings")
    os.environ["DJANGO_DEBUG"] = "true" if debug else "false"
    if not debug:
        os.environ.update(
            {
                "DJANGO_SECRET_KEY": "weft-bench-secret-key-not-for-production-0123456789",
                "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
            }
        )
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)  # local-memory cache; runs are executed in this process
    os.environ["WEFT_INPROCESS_WORKER"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    urls: multiprocessing.Queue = multiprocessing.Queue()
    counts: multiprocessing.Queue = multiprocessing.Queue()
    stop, ask = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(urls, counts, stop, ask), daemon=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            setup_django(args.database_url, Path(folder))
            rows = measure(urls.get(timeout=10), counts, ask, args.concurrency)
    finally:
        stop.set()
        server.join(5)
    width = max(len(label) for label, *_ in rows)
    print(f"{'run after editing one leaf':<{width}}  {'LLM calls':>9}  {'wall time':>9}  {'reused':>6}")
    print("-" * (width + 34))
    for label, calls, seconds, reused in rows:
        print(f"{label:<{width}}  {calls:>9}  {seconds * 1000:>6.0f} ms  {reused:>6}")


def measure(url: str, counts: multiprocessing.Queue, ask: Any, concurrency: int) -> list[tuple]:
    from django.conf import settings

    import engine
    from accounts.models import User
    from runs.driving import run_execute
    from runs.models import RunStatus
    from runs.services import run_create
    from workflows.services import graph_limits

    settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL, settings.GROQ_API_KEY = "bench", url, None
    settings.LLM_MAX_ATTEMPTS, settings.RUN_CONCURRENCY = 1, concurrency
    owner = User.objects.create_user(f"bench-{time.time_ns()}@example.com")

    def calls_so_far() -> int:
        ask.set()
        return counts.get(timeout=10)

    def timed(graph: dict[str, Any], reuse: str) -> tuple[int, float, int]:
        before = calls_so_far()
        start = time.perf_counter()
        run = run_create(owner=owner, graph=graph, reuse=reuse, enqueue=False)
        finished = run_execute(run_id=str(run.id))
        elapsed = time.perf_counter() - start
        if finished is None or finished.status != RunStatus.SUCCEEDED:
            sys.exit(f"the run did not succeed: {finished and finished.error_summary}")
        return calls_so_far() - before, elapsed, finished.reused_nodes

    graph = workflow()
    first_calls, first_time, _ = timed(graph, "auto")
    edited = workflow()
    next(n for n in edited["nodes"] if n["id"] == EDITED)["data"]["text"] = "question 0, edited"
    llm_nodes = {n["id"] for n in edited["nodes"] if n["type"] == "llm"}
    affected = [n for n in engine.downstream_of(edited, EDITED, limits=graph_limits()) if n in llm_nodes]
    auto = timed(edited, "auto")
    none = timed(edited, "none")
    if auto[0] != len(affected):
        sys.exit(f"reuse auto made {auto[0]} LLM calls; the edit affects {len(affected)} LLM nodes")
    return [
        ("first run (nothing to reuse)", first_calls, first_time, 0),
        (f"reuse auto ({len(affected)} LLM nodes downstream of the edit)", *auto),
        ("reuse none", *none),
    ]


if __name__ == "__main__":
    main()
