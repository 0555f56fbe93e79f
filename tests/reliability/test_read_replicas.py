"""Read replicas, against a real streaming replica (pg_basebackup of a throwaway primary) behind the
production web server: a GET's reads come from the replica, a user who just wrote reads from the primary,
and a replica that lags more than DATABASE_REPLICA_MAX_LAG_SECONDS is skipped (health says so)."""

from __future__ import annotations

import itertools
import signal
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.reliability.services import PrivatePostgres
from tests.runs.processes import (
    Api,
    child_env,
    free_port,
    kill_group,
    manage,
    start_web,
    user_token,
    wait_http,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]

STICKY_SECONDS = 1
MAX_LAG_SECONDS = 8


# Each read asks for a page size not asked before: no cached page answers it, the database does.
_page_sizes = itertools.count(1)


def _listed(api: Api) -> set[str]:
    status, payload = api.call(f"/api/workflows?limit={next(_page_sizes)}")
    assert status == 200, payload
    return {workflow["name"] for workflow in payload["results"]}


def _replayed_everything(replica: PrivatePostgres) -> bool:
    with psycopg.connect(replica.url("weft"), autocommit=True) as conn:
        return conn.execute("SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()").fetchone()[0]


def test_gets_read_the_replica_unless_the_user_just_wrote_or_the_replica_lags(
    private_postgres: PrivatePostgres, tmp_path: Path
):
    private_postgres.create_database("weft")
    replica = private_postgres.start_replica()
    namespace = f"weft-test-{uuid.uuid4().hex[:10]}"
    env = child_env(
        namespace,
        DATABASE_URL=private_postgres.url("weft"),
        DATABASE_REPLICA_URLS=replica.url("weft"),
        DATABASE_REPLICA_STICKY_SECONDS=str(STICKY_SECONDS),
        DATABASE_REPLICA_MAX_LAG_SECONDS=str(MAX_LAG_SECONDS),
        CACHE_KEY_PREFIX=namespace,
    )
    port = free_port()
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        alice = Api(f"http://127.0.0.1:{port}", user_token(env, "alice@example.com"))
        server = start_web(env, port=port, log=tmp_path / "gunicorn.log")
        wait_http(f"{alice.base}/api/health")
        # A fresh commit replayed just before the pause, so that the lag is measured from now on.
        with psycopg.connect(private_postgres.url("weft"), autocommit=True) as conn:
            conn.execute("CREATE TABLE replay_mark (at timestamptz DEFAULT now())")
        wait_for(lambda: _replayed_everything(replica), timeout=20, interval=0.05)
        with psycopg.connect(replica.url("weft"), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

        status, created = alice.call("/api/workflows", {"name": "written", "nodes": [], "edges": []})
        assert status == 201, created
        # Read-your-writes: the primary answers while she is sticky.
        assert alice.call(f"/api/workflows/{created['id']}")[0] == 200

        # Then the replica, which has not replayed her write.
        wait_for(lambda: "written" not in _listed(alice), timeout=MAX_LAG_SECONDS / 2)
        assert alice.call("/api/health")[1]["checks"]["replicas"].startswith("replica_0 ok")

        # Lagging past the limit: skipped, and the primary answers again.
        wait_for(lambda: "lagging" in alice.call("/api/health")[1]["checks"]["replicas"], timeout=30)
        assert "written" in _listed(alice)

        with psycopg.connect(replica.url("weft"), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        wait_for(
            lambda: alice.call("/api/health")[1]["checks"]["replicas"].startswith("replica_0 ok"), timeout=20
        )
        assert "written" in _listed(alice)
    finally:
        if server is not None:
            kill_group(server, signal.SIGTERM)
        replica.stop()
        replica.remove()
    assert set(alice.statuses) <= {200, 201}, (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]
