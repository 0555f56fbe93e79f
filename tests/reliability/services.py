"""Private Redis and PostgreSQL instances for fault tests: started by the test, on free ports, in a
temporary folder, so that restarting them disturbs nobody (never the machine's shared services)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from tests.runs.processes import free_port


class PrivateRedis:
    """`redis-server` without persistence: a restart loses every queue, as a real Redis crash would."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary, "redis-server is not installed"
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen([*args, "--dir", str(self.workdir)], stdout=log, stderr=log)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL: the abrupt end of a crash, not a clean shutdown."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster made with initdb and run with pg_ctl (as `postgres` when we are root:
    PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        # Not under pytest's tmp_path: its parents are private to our user, and the server may run as another.
        self.workdir = Path(tempfile.mkdtemp(prefix="weft-pg-"))
        self.data = self.workdir / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")  # KeyError: no postgres account to run the server as
            os.chown(self.workdir, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    @staticmethod
    def unavailable_reason() -> str | None:
        if _postgres_bin() is None:
            return "initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres account to run initdb/pg_ctl as"
            if shutil.which("runuser") is None:
                return "running as root and runuser is missing"
        return None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.prefix, str(self.bin / tool), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.workdir / "server.log"), *self._options(), "start"
        )

    def restart(self) -> None:
        """`-m fast`: open connections are cut at once, as when the database server restarts."""
        self._run("pg_ctl", "-D", str(self.data), *self._options(), "-m", "fast", "restart")

    def down_for(self, seconds: float) -> None:
        """An outage: stopped (`-m fast`), unreachable for `seconds`, started again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        time.sleep(seconds)
        self.start()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _options(self) -> list[str]:
        server = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        # The log file matters: without it the server inherits pg_ctl's output pipe and our wait never ends.
        return ["-l", str(self.workdir / "server.log"), "-w", "-t", "30", "-o", server]

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def start_replica(self) -> PrivatePostgres:
        """A hot standby streaming from this cluster (`pg_basebackup -R`), running on a port of its own."""
        replica = PrivatePostgres()
        self._run(
            "pg_basebackup",
            *("-D", str(replica.data), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"),
            *("-R", "-X", "stream", "--no-sync", "--checkpoint=fast"),
        )
        replica.start()
        return replica

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def remove(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
