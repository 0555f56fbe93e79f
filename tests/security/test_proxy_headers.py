"""The servers Weft runs under (gunicorn with uvicorn workers, as the Dockerfile starts it, reading
gunicorn.conf.py; uvicorn as `make run` starts it) leave REMOTE_ADDR alone: a client on 127.0.0.1 cannot
name its own address in X-Forwarded-For and buy a fresh failed-login bucket per request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.runs import processes
from tests.runs.processes import ROOT, free_port, kill_group, start
from tests.waiting import wait_for

PER_ADDRESS = 10
THROTTLED = "Too many failed login attempts"


def _database_url() -> str:
    """pytest-django's test database, which the server process shares with this test."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    return processes.test_database_url()


def _gunicorn_args(port: int) -> list[str]:
    """The Dockerfile's command, with one worker so that a local-memory cache holds every count."""
    args = ["-m", "gunicorn", "workflowsite.asgi:application", "-c", str(ROOT / "gunicorn.conf.py")]
    args += ["--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "1"]
    return [*args, "--bind", f"127.0.0.1:{port}"]


def _make_run_uvicorn_args(port: int) -> list[str]:
    """The uvicorn command of `make run`, read from the Makefile, without the file-watching reloader."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "-m uvicorn" in line)
    words = line.split("$(BIN)/python", 1)[1].split()
    return [
        word.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", str(port))
        for word in words
        if word != "$(RELOAD)"
    ]


@pytest.fixture(params=[_gunicorn_args, _make_run_uvicorn_args], ids=["gunicorn", "make-run-uvicorn"])
def server_url(request, transactional_db, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "FORWARDED_ALLOW_IPS"}
    env.update(
        DJANGO_SETTINGS_MODULE="workflowsite.settings",
        # Debug: plain-HTTP cookies (CSRF) and no HTTPS redirect for this local client.
        DJANGO_DEBUG="true",
        DATABASE_URL=_database_url(),
        DATABASE_CONN_MAX_AGE="0",
        WEFT_INPROCESS_WORKER="false",
        LOGIN_FAILED_RATE_LIMIT=f"{PER_ADDRESS}/m/ip,5/300s/key",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    server = start(request.param(port), env, tmp_path / "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), timeout=30, interval=0.1)
        yield url
    finally:
        kill_group(server)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _log_in(client: httpx.Client, email: str, password: str, claimed_address: str) -> httpx.Response:
    client.get("/accounts/login/")
    return client.post(
        "/accounts/login/",
        data={"login": email, "password": password},
        headers={"X-CSRFToken": client.cookies["csrftoken"], "X-Forwarded-For": claimed_address},
    )


@pytest.mark.slow
def test_a_local_client_cannot_choose_its_address_with_x_forwarded_for(server_url):
    with httpx.Client(base_url=server_url, timeout=10) as client:
        for n in range(PER_ADDRESS):
            failed = _log_in(client, f"victim{n}@example.com", "wrong-guess", f"198.51.100.{n}")
            assert failed.status_code == 200
            assert THROTTLED not in failed.text

        # Had the server taken each claimed address as REMOTE_ADDR, this would be an eleventh fresh bucket.
        refused = _log_in(client, f"victim{PER_ADDRESS}@example.com", "wrong-guess", "192.0.2.7")

    assert refused.status_code == 200
    assert THROTTLED in refused.text
