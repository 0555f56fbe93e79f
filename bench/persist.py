"""Persisted cost per node: `run_execute` on PostgreSQL against the engine alone, side by side in one process.

    .venv/bin/python -m bench.persist [--repeat 3] [--small 20] [--redis URL] [--profile N [--reused]]

(a) A 1,000-node chain (Text, then 999 Prompt `{{previous}}`): the engine alone (`execute_graph` with a
memory sink, the same options and context as a run) and a persisted run (`run_create` + `run_execute`:
claim, results and logs written, final counters, live events published), best of --repeat each,
alternated, both fresh (`reuse: none`) and reused (`reuse: auto`, every node reused from the run before);
plus the database statements and live events each sent. (b) A Text -> Debug run (`run_execute`), median of
2 x --small runs, with the provider keys unset and set (to an unused address; no LLM node runs), to show
that a run does not pay for building SDK clients. (c) 8 independent LLM nodes (Text -> 8 LLM -> a Prompt
joining them -> Debug; the real google-genai SDK against the fake LLM server at 200 ms, in a process of its
own) as a persisted run, --branches-runs times: each run's wall time against the critical path (one 200 ms
call), every run's ratio shown (min, median, max). Needs PostgreSQL (BENCH_PG_SERVER); it creates its own
database and drops it at the end. The production configuration's Redis (cache and live event bus) is
--redis (default redis://127.0.0.1:6379/15, which it flushes; "" for process-local memory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench import ENCRYPTION_KEY
from bench.load import ROOT, close_django_connections, create_database, drop_database, fake_llm_process
from tests.graphs import edge, graph, node, text_to_debug_graph

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
CHAIN = 1000
BRANCHES = 8
BRANCH_LATENCY_S = 0.2


def chain_graph() -> dict[str, list]:
    nodes = [node("n0", "text", text="start")]
    nodes += [node(f"n{i}", "prompt", template="{{previous}}") for i in range(1, CHAIN)]
    return graph(nodes, [edge(f"n{i - 1}", f"n{i}") for i in range(1, CHAIN)])


def branches_graph() -> dict[str, list]:
    nodes = [node("t", "text", text="branch")]
    nodes += [node(f"l{i}", "llm", temperature=0) for i in range(BRANCHES)]
    join = " ".join(f"{{{{a{i}}}}}" for i in range(BRANCHES))
    nodes += [node("join", "prompt", template=join), node("out", "debug")]
    edges = [edge("t", f"l{i}", None, "prompt") for i in range(BRANCHES)]
    edges += [edge(f"l{i}", "join", None, f"a{i}") for i in range(BRANCHES)]
    return graph(nodes, [*edges, edge("join", "out")])


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="instead: cProfile a chain run")
    parser.add_argument("--reused", action="store_true", help="with --profile: profile the reused run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--branches-runs", type=int, default=10)
    args = parser.parse_args()

    db_name = f"weft_bench_persist_{uuid.uuid4().hex[:10]}"
    create_database(db_name)
    try:
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DRAMATIQ_BROKER_URL"}},
            "REDIS_URL": args.redis,
            "DJANGO_SETTINGS_MODULE": "workflowsite.settings",
            "DJANGO_SECRET_KEY": "weft-bench-persist-secret-key-not-for-production-0123456789",
            "DJANGO_DEBUG": "false",
            "WEFT_ENCRYPTION_KEYS": ENCRYPTION_KEY,
            "DATABASE_URL": f"{PG_SERVER}/{db_name}",
            "WEFT_INPROCESS_WORKER": "false",
            "GRAPH_MAX_NODES": str(CHAIN),
            "GRAPH_MAX_EDGES": str(CHAIN),
            "GEMINI_API_KEY": "",
            "GROQ_API_KEY": "",
            "LOG_LEVEL": "WARNING",
        }
        migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True)
        os.environ.update(env)
        if args.redis:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        import engine
        from core.engine_config import run_options
        from runs.driving import run_execute
        from runs.execution import execution_context
        from runs.models import RunStatus
        from runs.services import run_create
        from tests.factories import UserFactory

        owner = UserFactory(email="bench-persist@example.com")
        chain = chain_graph()

        def engine_alone() -> None:
            outcome = engine.execute_graph(
                chain,
                context=execution_context(owner=owner, run_id=uuid.uuid4()),
                sink=engine.MemorySink(),
                options=run_options(),
            )
            assert outcome.status is engine.RunStatus.succeeded, outcome.error_summary

        statements: list[int] = []

        def count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements[-1] += 1
            return execute(sql, params, many, context)

        def persisted(graph_: dict[str, list], reuse: str = "none") -> Callable[[], None]:
            def run() -> None:
                created = run_create(owner=owner, graph=graph_, reuse=reuse, enqueue=False)
                statements.append(0)
                with connection.execute_wrapper(count):
                    finished = run_execute(run_id=str(created.id))
                assert finished is not None
                assert finished.status == RunStatus.SUCCEEDED, finished.error_summary

            return run

        engine_alone()  # warm-up: imports, connections
        persisted(chain)()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(persisted(chain, "auto" if args.reused else "none"))
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
            return 0
        engine_times: list[float] = []
        persisted_times: dict[str, list[float]] = {"none": [], "auto": []}
        chain_statements: dict[str, int] = {}
        for _ in range(args.repeat):
            engine_times.append(timed(engine_alone))
            for reuse in persisted_times:
                persisted_times[reuse].append(timed(persisted(chain, reuse)))
                chain_statements[reuse] = statements[-1]
        engine_ms = min(engine_times) * 1000 / CHAIN

        small = text_to_debug_graph("hello")
        keys = {
            "GEMINI_API_KEY": "bench-key",
            "GEMINI_BASE_URL": "http://127.0.0.1:9",
            "GROQ_API_KEY": "bench-key",
            "GROQ_BASE_URL": "http://127.0.0.1:9",
        }
        small_times: dict[bool, list[float]] = {False: [], True: []}
        # Blocks alternate so that both see the same machine; each block's first run (which builds the
        # process's client for the changed settings) is left out.
        for block in range(4):
            with_keys = block % 2 == 1
            for name, value in keys.items():
                setattr(settings, name, value if with_keys else "")
            persisted(small)()
            small_times[with_keys] += [timed(persisted(small)) for _ in range(args.small)]
        without_keys = statistics.median(small_times[False]) * 1000
        with_keys = statistics.median(small_times[True]) * 1000

        with fake_llm_process(latency_s=BRANCH_LATENCY_S) as llm_url:
            settings.GEMINI_BASE_URL = llm_url
            settings.GROQ_API_KEY = ""
            branches = branches_graph()
            persisted(branches)()  # the process's client for these settings, built once
            ratios = sorted(timed(persisted(branches)) / BRANCH_LATENCY_S for _ in range(args.branches_runs))
        connection.close()

        print(
            f"\n{CHAIN}-node chain (Text, then {CHAIN - 1} Prompts), PostgreSQL, best of {args.repeat}; "
            f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
        )
        print("| measure | value | goal |")
        print("|---|---|---|")
        print(f"| live events | {'Redis ' + args.redis if args.redis else 'in-process memory'} | |")
        print(f"| (a) engine alone, ms per node | {engine_ms:.3f} | |")
        for reuse, label in (("none", "fresh"), ("auto", "reused")):
            persisted_ms = min(persisted_times[reuse]) * 1000 / CHAIN
            verdict = "met" if persisted_ms <= 0.5 else "NOT met"
            print(f"| (a) persisted run, {label}, ms per node | {persisted_ms:.3f} | <= 0.5: {verdict} |")
            print(f"| (a) persisted {label} / engine alone | {persisted_ms / engine_ms:.1f}x | |")
            print(f"| (a) database statements per {label} chain run | {chain_statements[reuse]:,} | |")
        print(f"| (b) Text -> Debug run, provider keys unset, median ms | {without_keys:.1f} | |")
        verdict = "met" if with_keys <= without_keys * 1.1 else "NOT met"
        print(
            f"| (b) Text -> Debug run, provider keys set, median ms | {with_keys:.1f} "
            f"({with_keys / without_keys:.2f}x) | within 10%: {verdict} |"
        )
        verdict = "met" if ratios[-1] <= 2.5 else "NOT met"
        print(
            f"| (c) {BRANCHES} parallel LLM nodes, persisted run / critical path, min / median / max of "
            f"{len(ratios)} | {ratios[0]:.2f} / {statistics.median(ratios):.2f} / {ratios[-1]:.2f} "
            f"| <= 2.5 every run: {verdict} |"
        )
        return 0
    finally:
        close_django_connections()
        drop_database(db_name)


if __name__ == "__main__":
    sys.exit(main())
