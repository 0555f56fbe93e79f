"""Evaluations: a dataset experiment's wall time against the ideal, and the overhead per row.

    .venv/bin/python -m bench.evaluate [--rows 200] [--concurrency 8] [--latency 0.05] [--database-url postgres://...]

A workflow Input `topic` -> LLM (temperature 0.7, so nothing is reused) -> Output `answer`; a dataset of
`--rows` rows; one experiment with an `exact` and a `contains` evaluator, `--concurrency` runs at a time. The
fake LLM server (`--latency` s per call) runs in its own process; the runs and the experiment's advances run
on a Dramatiq worker in this process (a StubBroker, `concurrency + 2` threads). It prints the wall time from
the start to the last row scored, the ideal (rows x calls per row x latency / concurrency), their ratio (the
goal: within 1.3x), the overhead per row ((wall - ideal) x concurrency / rows: what a row costs a slot
beyond its model calls) and the CPU time per row of this process (the runs and advances on all its threads;
the fake server's is not counted). Django runs without DEBUG, as in production (no per-query log), and the
wait polls the experiment's own count of finished items.

By default it uses a fresh SQLite file in a temporary folder; `--database-url` points it at an empty
PostgreSQL database instead (it is migrated, not dropped).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.reuse import setup_django
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import edge, graph, node

CALLS_PER_ROW = 1
GOAL = 1.3


def serve(urls: multiprocessing.Queue, stop: Any, latency: float) -> None:
    with FakeLLMServer(latency_s=latency) as server:
        urls.put(server.url)
        stop.wait()


def measure(url: str, *, rows: int, concurrency: int) -> tuple[float, float, int]:
    """Wall time from the start to the last row scored or skipped, this process's CPU time over it, and the
    items scored."""
    import dramatiq
    from django.conf import settings
    from django.db.models import F

    from accounts.models import User
    from evaluations.datasets import rows_from_json
    from evaluations.models import Experiment, ExperimentStatus
    from evaluations.services import dataset_create, dataset_rows_add, experiment_spec, experiment_start
    from tests.brokers import private_stub_broker
    from workflows.services import workflow_create

    settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL, settings.GROQ_API_KEY = "bench", url, None
    settings.LLM_MAX_ATTEMPTS = 1
    settings.RUN_MAX_RUNNING_PER_USER = settings.RUN_MAX_ACTIVE_PER_USER = concurrency * 4
    settings.EXECUTE_RATE_LIMIT = "100000/m"
    owner = User.objects.create_user(f"bench-{time.time_ns()}@example.com")
    workflow = workflow_create(
        owner=owner,
        name="bench",
        **graph(
            [
                node("topic", "input", name="topic"),
                node("ask", "llm", temperature=0.7),
                node("answer", "output", name="answer"),
            ],
            [edge("topic", "ask", "value", "prompt"), edge("ask", "answer", "text", "value")],
        ),
    )
    dataset = dataset_create(owner=owner, name="bench")
    dataset = dataset_rows_add(
        dataset=dataset,
        parsed=rows_from_json(
            [
                {"inputs": {"topic": f"topic {i}"}, "expected": {"answer": f"echo: topic {i}"}}
                for i in range(rows)
            ]
        ),
    )
    evaluators = [
        {"name": "right", "type": "exact", "output": "answer"},
        {"name": "mentions", "type": "contains", "output": "answer"},
    ]
    with private_stub_broker() as broker:
        worker = dramatiq.Worker(broker, worker_threads=concurrency + 2, worker_timeout=50)
        worker.start()
        try:
            spec = experiment_spec(
                owner=owner,
                workflow=workflow,
                version=1,
                dataset=dataset,
                evaluators=evaluators,
                concurrency=concurrency,
            )
            started, cpu_started = time.perf_counter(), time.process_time()
            experiment = experiment_start(owner=owner, spec=spec)
            # One primary-key read per poll: the experiment's own count of the items scored or skipped.
            unfinished = Experiment.objects.filter(pk=experiment.pk, done_count__lt=F("item_count"))
            while unfinished.exists():
                time.sleep(0.02)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            worker.stop()
    experiment.refresh_from_db()
    if experiment.status != ExperimentStatus.SUCCEEDED or experiment.summary.get("passRate") != 1.0:
        raise SystemExit(f"the experiment ended {experiment.status}: {experiment.summary}")
    return elapsed, cpu, experiment.items.count()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(urls, stop, args.latency), daemon=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            setup_django(args.database_url, Path(folder), debug=False)
            elapsed, cpu, scored = measure(urls.get(timeout=10), rows=args.rows, concurrency=args.concurrency)
    finally:
        stop.set()
        server.join(5)
    ideal = args.rows * CALLS_PER_ROW * args.latency / args.concurrency
    ratio = elapsed / ideal
    overhead_ms = (elapsed - ideal) * args.concurrency / args.rows * 1000
    print(
        f"rows {args.rows} (scored {scored}), concurrency {args.concurrency}, "
        f"latency {args.latency * 1000:.0f} ms"
    )
    print(f"wall time {elapsed:.2f} s, ideal {ideal:.2f} s, ratio {ratio:.2f}x (goal <= {GOAL}x)")
    print(f"overhead per row {overhead_ms:.1f} ms")
    # The worker's threads share one interpreter: past about one core, CPU per row bounds the wall time
    # (rows x CPU per row), whatever the concurrency.
    print(f"CPU per row {cpu / args.rows * 1000:.1f} ms (this process, all threads: {cpu:.2f} s)")


if __name__ == "__main__":
    main()
