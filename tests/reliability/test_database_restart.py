"""The database restarted while runs are in flight: a throwaway PostgreSQL cluster (initdb, pg_ctl) serves
a gunicorn server and a Dramatiq worker process; after `pg_ctl restart -m fast` their connections recover,
every run reaches a final state and every node has exactly one result."""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.fakes.llm_server import FakeLLMServer, prompt_text
from tests.graphs import text_llm_chain
from tests.reliability.services import PrivatePostgres, PrivateRedis
from tests.runs.processes import (
    FAST_RECOVERY,
    Api,
    child_env,
    fake_llm_env,
    free_port,
    kill_group,
    manage,
    start,
    start_web,
    user_token,
    wait_http,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]

RUNS = 8
FINISHED = {"succeeded", "failed", "cancelled"}
DUPLICATES = (
    "SELECT count(*) FROM (SELECT 1 FROM runs_noderesult GROUP BY run_id, node_id HAVING count(*) > 1) d"
)


@pytest.mark.parametrize("outage_s", [0, 3], ids=["restart", "down-3s"])
def test_runs_in_flight_when_the_database_restarts_reach_a_final_state(
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    fake_llm: FakeLLMServer,
    tmp_path: Path,
    outage_s: float,
):
    private_postgres.create_database("weft")
    database_url = private_postgres.url("weft")
    fake_llm.latency_s = 1.0
    env = child_env(
        f"weft-test-{uuid.uuid4().hex[:10]}",
        DATABASE_URL=database_url,
        # Persistent connections, as in production: they are the ones a restart breaks.
        DATABASE_CONN_MAX_AGE="60",
        REDIS_URL=private_redis.url,
        DRAMATIQ_BROKER_URL=private_redis.url,
        **fake_llm_env(fake_llm.url),
        **FAST_RECOVERY,
        RUN_QUEUED_RESEND_AFTER_SECONDS="10",
        RUN_MAX_ACTIVE_PER_USER="100",
        EXECUTE_RATE_LIMIT="1000/m",
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}", user_token(env, "alice@example.com"))
    # The production web server: its requests borrow from the pool, which must not lend a dead connection.
    server = start_web(env, port=port, log=tmp_path / "gunicorn.log")
    workers = start(
        ["manage.py", "rundramatiq", "--processes", "1", "--threads", "4"], env, tmp_path / "workers.log"
    )
    try:
        wait_http(f"{api.base}/api/health")
        run_ids = []
        for i in range(RUNS):
            status, payload = api.call("/api/execute", text_llm_chain(3, text=f"run {i}"))
            assert status == 202, payload
            run_ids.append(payload["runId"])

        def llm_nodes_done() -> int:
            return sum(len(api.call(f"/api/runs/{run_id}")[1]["nodeResults"]) > 1 for run_id in run_ids)

        wait_for(lambda: llm_nodes_done() >= 2, timeout=30, interval=0.2)
        before = Counter(api.call(f"/api/runs/{run_id}")[1]["status"] for run_id in run_ids)
        restart_started = time.monotonic()
        if outage_s:
            # Long enough for the worker to take queued messages it cannot claim (they are re-sent later).
            private_postgres.down_for(outage_s)
        else:
            private_postgres.restart()
        restart_s = time.monotonic() - restart_started
        api.statuses.clear()

        # New work after the restart is accepted and executed too.
        status, payload = api.call("/api/execute", text_llm_chain(3, text="after the restart"))
        assert status == 202, payload
        run_ids.append(payload["runId"])
        final: dict[str, Any] = {}

        def all_final() -> bool:
            for run_id in set(run_ids) - final.keys():
                status, payload = api.call(f"/api/runs/{run_id}")
                if status == 200 and payload["status"] in FINISHED:
                    final[run_id] = payload
            return len(final) == len(run_ids)

        wait_for(all_final, timeout=60, interval=0.3)
        recovery_s = time.monotonic() - restart_started
    finally:
        kill_group(workers, signal.SIGTERM)
        kill_group(server, signal.SIGTERM)

    log = (tmp_path / "workers.log").read_text(errors="replace")[-3000:]
    outcome = Counter(payload["status"] for payload in final.values())
    print(
        f"before the restart: {dict(before)}; database back after {restart_s:.1f} s; final {dict(outcome)} "
        f"{recovery_s:.1f} s after it"
    )
    # Every answer after the restart was a success: the server's connections recovered.
    assert set(api.statuses) == {200, 202}, Counter(api.statuses)
    for payload in final.values():
        assert payload["status"] in {"succeeded", "failed"}, log
        if payload["status"] == "failed":
            assert payload["errorSummary"], log
        per_node = Counter(result["nodeId"] for result in payload["nodeResults"])
        assert per_node == {"a": 1, "b": 1, "c": 1}, (payload, log)
    with psycopg.connect(database_url) as conn:
        duplicates = conn.execute(DUPLICATES).fetchone()[0]
        recoveries = Counter(r for (r,) in conn.execute("SELECT recoveries FROM runs_workflowrun"))
    assert duplicates == 0
    prompts = Counter(prompt_text(r.provider, r.body) for r in fake_llm.requests)
    print(
        "recoveries:",
        dict(recoveries),
        "LLM calls per first prompt:",
        Counter(prompts[f"run {i}"] for i in range(RUNS)),
    )
