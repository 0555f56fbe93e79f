"""Chaos soak: runs of mixed workflows on 2 Dramatiq worker processes while workers are SIGKILLed and
restarted, Redis is restarted once and the database's connections are terminated once; afterwards no run
may be lost or stuck, every node must have exactly one result and every repeated LLM call must belong to a
run that lost an attempt.

    .venv/bin/python -m bench.chaos [--runs 2000] [--rate 5] [--threads 4] [--latency 0.05] [--seed 1]

Needs PostgreSQL (BENCH_PG_SERVER, default postgres://postgres@127.0.0.1:5432) and `redis-server`: the broker
and the cache are a private redis-server started by the bench on a free port (no persistence), so that
restarting it disturbs nobody. It creates a database with a unique name (weft_bench_chaos_<hex>, dropped at
the end), a user and a published callee workflow (Input -> LLM -> Output), starts the fake LLM server in
its own process and two `manage.py rundramatiq --processes 1 --threads N` worker groups. Runs are created
through `run_create` at --rate per second, in turn: Text -> LLM -> LLM -> Debug; Text -> Map(callee, 3
items) -> Debug; Text -> Sub-workflow(callee) -> Debug; Text -> LLM -> Debug beside Text -> Extract(a path
that matches nothing) -> Debug, which must fail. While runs are being created: every 5-15 s one worker group
is SIGKILLed and a fresh one started; at a third of the way Redis is SIGKILLed and started again (every
queued message, ack set and worker heartbeat is gone); at two thirds every backend of the database is ended
with pg_terminate_backend. Every prompt is unique to its run, so the fake server's request log counts each
LLM node's calls. The workers recover fast (stale after 10 s, sweeps every 2 s) and re-send a queued run's
lost message after 20 s; each LLM call is made once (LLM_MAX_ATTEMPTS=1), so a repeated call is a node
executed again. The whole script is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import (
    Overtime,
    close_django_connections,
    create_database,
    drop_database,
    serve_settings,
    start_group,
    stop_group,
)
from tests.graphs import edge, graph, node

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
KINDS = ("chain", "map", "subworkflow", "failing")
MAP_ITEMS = 3
# Recovery settings of the workers: fast enough that a soak of a few minutes sees every path taken.
RECOVERY = {
    "RUN_STALE_AFTER_SECONDS": "10",
    "RUN_HEARTBEAT_SECONDS": "1",
    "RUN_SWEEP_INTERVAL_SECONDS": "2",
    "RUN_QUEUED_RESEND_AFTER_SECONDS": "20",
}
# A run not final this long after the last run was created and the last fault ended is stuck.
GRACE_S = 60.0
KILL_EVERY_S = (5.0, 15.0)
REDIS_DOWN_S = 1.0


def run_graph(kind: str, tag: str, callee_id: str) -> dict[str, list]:
    """The workflow of one run; every LLM prompt in it starts with `tag`."""
    text = node("a", "text", text=tag)
    if kind == "chain":
        return graph(
            [text, node("b", "llm"), node("c", "llm"), node("d", "debug")],
            [
                edge("a", "b", "text", "prompt"),
                edge("b", "c", "text", "prompt"),
                edge("c", "d", "text", "value"),
            ],
        )
    if kind == "map":
        items = "\n".join(f"{tag} item {k}" for k in range(MAP_ITEMS))
        return graph(
            [node("a", "text", text=items), node("m", "map", workflowId=callee_id), node("d", "debug")],
            [edge("a", "m", "text", "items"), edge("m", "d", "results", "value")],
        )
    if kind == "subworkflow":
        return graph(
            [text, node("s", "subworkflow", workflowId=callee_id), node("d", "debug")],
            [edge("a", "s", "text", "item"), edge("s", "d", "answer", "value")],
        )
    return graph(
        [
            text,
            node("b", "llm"),
            node("d", "debug"),
            node("x", "extract", path="$.missing"),
            node("e", "debug"),
        ],
        [
            edge("a", "b", "text", "prompt"),
            edge("b", "d", "text", "value"),
            edge("a", "x", "text", "value"),
            edge("x", "e", "value", "value"),
        ],
    )


def expected_prompts(kind: str, tag: str) -> list[str]:
    """What the fake server receives from one run executed once (the fake answers "echo: <prompt>")."""
    if kind == "chain":
        return [tag, f"echo: {tag}"]
    if kind == "map":
        return [f"{tag} item {k}" for k in range(MAP_ITEMS)]
    return [tag]


def callee_graph() -> dict[str, list]:
    """Input `item` -> LLM -> Output `answer`: what the Map and the Sub-workflow call."""
    return graph(
        [node("item", "input", name="item"), node("llm", "llm"), node("answer", "output", name="answer")],
        [edge("item", "llm", "value", "prompt"), edge("llm", "answer", "text", "value")],
    )


def serve_fake_llm(
    urls: multiprocessing.Queue, stop: multiprocessing.Event, latency_s: float, prompts: multiprocessing.Queue
) -> None:
    from tests.fakes.llm_server import FakeLLMServer, prompt_text

    with FakeLLMServer(latency_s=latency_s) as server:
        urls.put(server.url)
        stop.wait()
        prompts.put(Counter(prompt_text(r.provider, r.body) for r in server.requests))


@dataclass
class Faults:
    """What was done to the system, in seconds since the first run was created."""

    kills: list[float] = field(default_factory=list)
    redis_down: tuple[float, float] | None = None
    backends_terminated: tuple[float, int] | None = None
    last_end: float = 0.0  # when the last fault was over (a fresh worker started, Redis answering)


class WorkerGroups:
    """Two `rundramatiq` groups (1 process each); `replace_one` SIGKILLs one and starts a fresh one."""

    def __init__(self, env: dict[str, str], threads: int, logs: Path) -> None:
        self.env = env
        self.args = [
            sys.executable,
            "manage.py",
            "rundramatiq",
            "--processes",
            "1",
            "--threads",
            str(threads),
        ]
        self.logs = logs
        self.started = 0
        self.groups = [self._start(), self._start()]

    def _start(self) -> subprocess.Popen:
        self.started += 1
        return start_group(self.args, self.env, self.logs / f"worker-{self.started}.log")

    def replace_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.groups))
        stop_group(self.groups[index], signal.SIGKILL)
        self.groups[index] = self._start()

    def stop(self) -> None:
        for group in self.groups:
            stop_group(group)


@dataclass
class Submission:
    """Runs created by the submitting thread: (run id, kind, tag), and creations retried after a database
    error (the connection terminated under it)."""

    runs: list[tuple[str, str, str]] = field(default_factory=list)
    retries: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)


def submit(*, owner: Any, callee_id: str, count: int, rate: float, out: Submission) -> None:
    from django.db import InterfaceError, OperationalError, connection

    from runs.services import run_create

    out.first_at = time.monotonic()
    try:
        for i in range(count):
            due = out.first_at + i / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            kind, tag = KINDS[i % len(KINDS)], f"chaos {i}"
            while True:
                try:
                    run = run_create(owner=owner, graph=run_graph(kind, tag, callee_id))
                    break
                except (OperationalError, InterfaceError):
                    out.retries += 1
                    connection.close()
                    time.sleep(0.2)
            out.runs.append((str(run.pk), kind, tag))
            out.last_at = time.monotonic()
    finally:
        connection.close()
        out.done.set()


def terminate_backends(database: str) -> int:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        return conn.execute(query, [database]).fetchone()[0]


def inflict_faults(
    *,
    submission: Submission,
    window_s: float,
    workers: WorkerGroups,
    restart_redis: Callable[[], None],
    database: str,
    rng: random.Random,
) -> Faults:
    """Until every run is created: a worker group killed every 5-15 s, Redis restarted at a third of the
    window, the database's backends terminated at two thirds."""
    faults = Faults()
    start = submission.first_at
    next_kill = rng.uniform(*KILL_EVERY_S)
    redis_at, pg_at = window_s / 3, 2 * window_s / 3
    while not submission.done.is_set():
        now = time.monotonic() - start
        if faults.redis_down is None and now >= redis_at:
            restart_redis()
            faults.redis_down = (now, time.monotonic() - start)
            faults.last_end = faults.redis_down[1]
        elif faults.backends_terminated is None and now >= pg_at:
            faults.backends_terminated = (now, terminate_backends(database))
            faults.last_end = now
        elif now >= next_kill:
            workers.replace_one(rng)
            faults.kills.append(now)
            faults.last_end = now
            next_kill = now + rng.uniform(*KILL_EVERY_S)
        submission.done.wait(0.1)
    return faults


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@dataclass
class Outcome:
    rows: list[tuple[str, str, str]]
    ok: bool
    unknown_prompts: dict[str, int]
    never_sent: list[tuple[str, str, int]]
    unexpected: list[tuple[str, str, str, int, str]]
    not_own: list[tuple[str, str, str]]


def examine(submission: Submission, prompts: Counter[str], faults: Faults, finished_at: float) -> Outcome:
    """The table: every run created is final with its expected status, every node of every run (children
    included) has one result, and each LLM prompt was sent once, or more only by a run that lost attempts."""
    from django.db.models import Count

    from runs.models import ACTIVE_RUN_STATUSES, NodeResult, NodeStatus, RunStatus, WorkflowRun

    ids = [run_id for run_id, _, _ in submission.runs]
    top = {str(run.pk): run for run in WorkflowRun.objects.filter(pk__in=ids)}
    children = list(WorkflowRun.objects.filter(parent_run_id__in=ids))
    missing = [run_id for run_id in ids if run_id not in top]
    never_started = [r for r in top.values() if r.status == RunStatus.QUEUED and r.started_at is None]
    stuck = [r for r in top.values() if r.status in ACTIVE_RUN_STATUSES and r not in never_started]
    children_active = [r for r in children if r.status in ACTIVE_RUN_STATUSES]
    expected_status = {"failing": RunStatus.FAILED}
    unexpected = [
        (run_id, kind, top[run_id].status, top[run_id].recoveries, top[run_id].error_summary)
        for run_id, kind, _ in submission.runs
        if run_id in top
        and top[run_id].status not in ACTIVE_RUN_STATUSES
        and top[run_id].status != expected_status.get(kind, RunStatus.SUCCEEDED)
    ]
    failed_without_reason = [r for r in top.values() if r.status == RunStatus.FAILED and not r.error_summary]

    # One result per node of each final run's graph, children included.
    final = [r for r in [*top.values(), *children] if r.status not in ACTIVE_RUN_STATUSES]
    counts = Counter(
        {
            (str(row["run_id"]), row["node_id"]): row["n"]
            for row in NodeResult.objects.filter(run_id__in=[r.pk for r in final])
            .values("run_id", "node_id")
            .annotate(n=Count("id"))
        }
    )
    bad_nodes = sum(1 for run in final for n in run.nodes if counts[(str(run.pk), n["id"])] != 1)

    # The answers a succeeded run shows (its Debug node "d") are its own: each of its prompts echoed, and no
    # other run's tag (an answer read from another request would carry that request's tag).
    shown = dict(
        NodeResult.objects.filter(run_id__in=ids, node_id="d", status=NodeStatus.SUCCEEDED).values_list(
            "run_id", "output"
        )
    )
    not_own: list[tuple[str, str, str]] = []
    for run_id, kind, tag in submission.runs:
        run = top.get(run_id)
        if run is None or run.status != RunStatus.SUCCEEDED:
            continue
        text = json.dumps(shown.get(run.pk), ensure_ascii=False)
        tags = set(re.findall(r"chaos \d+", text))
        if tags != {tag} or any(f"echo: {p}" not in text for p in expected_prompts(kind, tag)):
            not_own.append((run_id, kind, text[:200]))

    # Each expected prompt once; more only for a run that lost attempts (at most once per attempt).
    duplicates = explained = beyond = 0
    expected_all: set[str] = set()
    never_sent: list[tuple[str, str, int]] = []  # (prompt, run id, recoveries) of succeeded runs
    for run_id, kind, tag in submission.runs:
        run = top.get(run_id)
        for prompt in expected_prompts(kind, tag):
            expected_all.add(prompt)
            if prompts[prompt] == 0 and run is not None and run.status == RunStatus.SUCCEEDED:
                never_sent.append((prompt, run_id, run.recoveries))
            extra = max(0, prompts[prompt] - 1)
            duplicates += extra
            allowed = run.recoveries if run is not None else 0
            explained += min(extra, allowed)
            beyond += max(0, extra - allowed)
    unknown = {prompt: n for prompt, n in prompts.items() if prompt not in expected_all}
    unknown_calls = sum(unknown.values())

    turnaround = [(r.completed_at - r.created_at).total_seconds() for r in top.values() if r.completed_at]
    slowest = max(turnaround, default=float("nan"))
    recovered = Counter(r.recoveries for r in top.values())
    statuses = Counter(r.status for r in top.values())
    last_final = max((r.completed_at for r in top.values() if r.completed_at), default=None)
    window = submission.last_at - submission.first_at
    redis = "not done (window too short)"
    if faults.redis_down:
        down_at, up_at = faults.redis_down
        redis = f"at {down_at:.0f} s, answering again {up_at - down_at:.1f} s later"
    backends = (
        f"{faults.backends_terminated[1]} at {faults.backends_terminated[0]:.0f} s"
        if faults.backends_terminated
        else "not done (window too short)"
    )
    settle = finished_at - max(submission.last_at, submission.first_at + faults.last_end)
    rows = [
        (
            "runs created (rate, window)",
            f"{len(ids)} ({len(ids) / max(window, 1e-9):.1f}/s over {window:.0f} s)",
            "",
        ),
        (
            "worker groups SIGKILLed and replaced",
            f"{len(faults.kills)} at " + ", ".join(f"{t:.0f}" for t in faults.kills) + " s",
            "",
        ),
        ("Redis SIGKILLed and restarted", redis, ""),
        ("database backends terminated", backends, ""),
        ("run creations retried (database error)", f"{submission.retries}", ""),
        ("runs lost (missing, or never started)", f"{len(missing) + len(never_started)}", "0"),
        (f"runs stuck (not final {GRACE_S:.0f} s after the last creation and fault)", f"{len(stuck)}", "0"),
        ("child runs not final", f"{len(children_active)}", "0"),
        ("runs final with another status than expected", f"{len(unexpected)}", "0"),
        ("failed runs without a reason", f"{len(failed_without_reason)}", "0"),
        ("final statuses", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())), ""),
        ("runs by recoveries", ", ".join(f"{k}: {v}" for k, v in sorted(recovered.items())), ""),
        (
            "nodes with other than one stored result (runs and child runs)",
            f"{bad_nodes} of {sum(len(r.nodes) for r in final)}",
            "0",
        ),
        ("LLM calls / expected once each", f"{sum(prompts.values())} / {len(expected_all)}", ""),
        ("repeated LLM calls (all)", f"{duplicates}", ""),
        ("... of runs that lost attempts (<= 1 per lost attempt)", f"{explained}", ""),
        ("... beyond those of lost attempts", f"{beyond}", "0"),
        ("LLM calls with an unknown prompt", f"{unknown_calls}", "0"),
        ("prompts of succeeded runs never sent", f"{len(never_sent)}", "0"),
        ("succeeded runs showing answers that are not their own", f"{len(not_own)}", "0"),
        (
            "run created -> final p50 / p99 / max",
            " / ".join(f"{v:.1f}" for v in (percentile(turnaround, 50), percentile(turnaround, 99), slowest))
            + " s",
            "",
        ),
        ("every run final, after the last creation and fault", f"{settle:.1f} s", f"<= {GRACE_S:.0f} s"),
    ]
    if last_final is not None:
        rows.append(("last run completed at (UTC)", last_final.strftime("%H:%M:%S"), ""))
    ok = not (missing or never_started or stuck or children_active or unexpected or failed_without_reason)
    ok = ok and bad_nodes == 0 and beyond == 0 and unknown_calls == 0 and not never_sent and not not_own
    return Outcome(
        rows=rows,
        ok=ok,
        unknown_prompts=unknown,
        never_sent=never_sent,
        unexpected=unexpected,
        not_own=not_own,
    )


def log_to_file(path: Path) -> None:
    """This process's log goes to a file: while Redis is down, every run created logs its refused enqueue
    (with a traceback), and the table says what came of it."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.FileHandler(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=5.0, help="runs created per second")
    parser.add_argument("--threads", type=int, default=4, help="threads per Dramatiq worker process")
    parser.add_argument("--latency", type=float, default=0.05, help="fake LLM latency per call, seconds")
    parser.add_argument("--seed", type=int, default=1, help="seeds the kill schedule")
    parser.add_argument(
        "--timeout", type=float, help="hard bound on the whole script (default: window + 300 s)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="print where the process logs are")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()

    from tests.reliability.services import PrivateRedis

    window_s = args.runs / args.rate
    timeout = args.timeout or window_s + 300

    def overtime(signum: int, frame: Any) -> None:
        raise Overtime(f"the hard time bound of {timeout:g} s passed")

    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(int(timeout) + 1)

    db_name = f"weft_bench_chaos_{uuid.uuid4().hex[:10]}"
    logs = Path(tempfile.mkdtemp(prefix="weft-chaos-"))
    redis_server = PrivateRedis(logs)
    if redis_server.binary is None:
        print("redis-server is not installed", file=sys.stderr)
        return 2
    llm_stop = multiprocessing.Event()
    llm_process: multiprocessing.Process | None = None
    prompts_out: multiprocessing.Queue = multiprocessing.Queue()
    workers: WorkerGroups | None = None
    database_created = False
    try:
        redis_server.start()
        create_database(db_name)
        database_created = True
        urls: multiprocessing.Queue = multiprocessing.Queue()
        llm_process = multiprocessing.Process(
            target=serve_fake_llm, args=(urls, llm_stop, args.latency, prompts_out), daemon=True
        )
        llm_process.start()
        llm_url = urls.get(timeout=10)
        env = serve_settings(
            settings_module="workflowsite.settings",
            database_url=f"{PG_SERVER}/{db_name}",
            redis_url=redis_server.url,
            cache_prefix="weft-chaos",
            GEMINI_API_KEY="bench-fake-key",
            GEMINI_BASE_URL=llm_url,
            GROQ_API_KEY="",
            LLM_TIMEOUT_SECONDS="20",
            LLM_MAX_ATTEMPTS="1",
            RUN_MAX_ACTIVE_PER_USER="1000000",
            **RECOVERY,
        )
        log_to_file(logs / "bench.log")
        from accounts.models import User
        from workflows.services import workflow_create, workflow_publish

        owner = User.objects.create_user(email="chaos@example.com", password=None)
        callee = workflow_publish(workflow=workflow_create(owner=owner, name="Echo", **callee_graph()))

        workers = WorkerGroups(env, args.threads, logs)
        submission = Submission()
        submitter = threading.Thread(
            target=submit,
            kwargs={
                "owner": owner,
                "callee_id": str(callee.pk),
                "count": args.runs,
                "rate": args.rate,
                "out": submission,
            },
            name="chaos-submit",
        )

        def restart_redis() -> None:
            redis_server.kill()
            time.sleep(REDIS_DOWN_S)
            redis_server.start()

        submitter.start()
        faults = inflict_faults(
            submission=submission,
            window_s=window_s,
            workers=workers,
            restart_redis=restart_redis,
            database=db_name,
            rng=random.Random(args.seed),
        )
        submitter.join()

        from django.db import connection

        from runs.models import ACTIVE_RUN_STATUSES, WorkflowRun

        connection.close()  # terminated with the others
        ids = [run_id for run_id, _, _ in submission.runs]
        settled_by = max(submission.last_at, submission.first_at + faults.last_end) + GRACE_S
        while time.monotonic() < settled_by:
            if not WorkflowRun.objects.filter(pk__in=ids, status__in=ACTIVE_RUN_STATUSES).exists():
                break
            time.sleep(0.5)
        finished_at = time.monotonic()
        workers.stop()
        workers = None
        llm_stop.set()
        prompts = prompts_out.get(timeout=30)

        outcome = examine(submission, prompts, faults, finished_at)
        connection.close()
        print(
            f"\nrundramatiq 2 groups x 1 process x {args.threads} threads, PostgreSQL, private redis-server; "
            f"fake LLM {args.latency * 1000:.0f} ms per call; "
            + ", ".join(f"{k}={v}" for k, v in RECOVERY.items())
            + f"; {os.cpu_count()} CPUs\n"
        )
        print("| measure | value | goal |")
        print("|---|---|---|")
        for name, value, goal in outcome.rows:
            print(f"| {name} | {value} | {goal} |")
        for run_id, kind, status, recoveries, summary in outcome.unexpected[:5]:
            print(f"\nunexpected: run {run_id} ({kind}) {status}, recoveries {recoveries}: {summary}")
        for run_id, kind, text in outcome.not_own[:5]:
            print(f"\nnot its own answers: run {run_id} ({kind}) shows {text}")
        if outcome.unknown_prompts:
            print(f"\nunknown prompts (first 5): {list(outcome.unknown_prompts.items())[:5]}")
        if outcome.never_sent:
            print(f"\nprompts never sent, (prompt, run, recoveries) (first 5): {outcome.never_sent[:5]}")
        if args.keep_logs:
            print(f"\nprocess logs: {logs}")
        print("\nresult:", "PASS" if outcome.ok else "FAIL")
        return 0 if outcome.ok else 1
    except Overtime as exc:
        print(f"\nFAIL: {exc}; process logs in {logs}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
        if workers is not None:
            workers.stop()
        llm_stop.set()
        if llm_process is not None:
            llm_process.join(5)
        close_django_connections()
        if database_created and not args.keep_database:
            drop_database(db_name)
        elif database_created:
            print(f"database kept: {PG_SERVER}/{db_name}")
        redis_server.kill()


if __name__ == "__main__":
    sys.exit(main())
