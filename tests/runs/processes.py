"""Helpers for tests that start real server and worker processes against the test database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of pytest-django's PostgreSQL test database, for child processes."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# Recovery within seconds: heartbeats every 0.5 s, stale after 3 s, every worker sweeps every 0.5 s.
FAST_RECOVERY = {
    "RUN_STALE_AFTER_SECONDS": "3",
    "RUN_HEARTBEAT_SECONDS": "0.5",
    "RUN_SWEEP_INTERVAL_SECONDS": "0.5",
}


def fake_llm_env(llm_url: str) -> dict[str, str]:
    """Gemini on the fake server, one attempt, no Groq fallback."""
    return {
        "GEMINI_API_KEY": "fake-key",
        "GEMINI_BASE_URL": llm_url,
        "GROQ_API_KEY": "",
        "LLM_MAX_ATTEMPTS": "1",
    }


def child_env(namespace: str, **extra: str) -> dict[str, str]:
    env = {
        # DATABASE_POOL: not this process's (importing workflowsite.asgi sets it): an ASGI child sets its own.
        **{name: value for name, value in os.environ.items() if name != "DATABASE_POOL"},
        "DJANGO_SETTINGS_MODULE": "tests.runs.worker_settings",
        "WEFT_TEST_DRAMATIQ_NAMESPACE": namespace,
        "DATABASE_URL": test_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def start(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """Start a process in its own session, so that it and its children can be killed together."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(env),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def fresh_sqlite_site(tmp_path: Path, **extra: str) -> tuple[dict[str, str], Callable[..., str]]:
    """The environment of `make run` on a fresh machine (debug, a SQLite file, no Redis, the in-process
    worker) and a `manage(*args)` that runs a management command in it and returns its output."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return env, manage


class Api:
    """A JSON client of a server process, as a user's API token; it keeps every status it saw."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.statuses: list[int] = []

    def call(self, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST" if body is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, payload = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()[:500]
        self.statuses.append(status)
        return status, payload


def manage(env: Mapping[str, str], *args: str) -> str:
    """`manage.py <args>` in `env`; its output. Fails the test when the command fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def user_token(env: Mapping[str, str], email: str) -> str:
    """A new user with `email` in `env`'s database, and an API token of theirs."""
    code = (
        "from accounts.models import User; from accounts.services import api_token_create; "
        f"print(api_token_create(owner=User.objects.create_user(email={email!r}), name='t').secret)"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def start_web(env: Mapping[str, str], *, port: int, log: Path, workers: int = 1) -> subprocess.Popen:
    """The production web server, as the README runs it: gunicorn with `workers` uvicorn workers."""
    return start(
        [
            *("-m", "gunicorn", "workflowsite.asgi:application"),
            *("--worker-class", "uvicorn_worker.UvicornWorker", "--workers", str(workers)),
            *("--bind", f"127.0.0.1:{port}"),
        ],
        env,
        log,
    )
