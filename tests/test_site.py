"""The site itself: health, request ids, JSON logs, body limits and production settings."""

from __future__ import annotations

import json
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_health_reports_every_check_ok(anon_client, site_worker):
    response = anon_client.get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(value.startswith("ok") for value in body["checks"].values())


@pytest.mark.django_db
def test_health_is_503_naming_an_unreachable_broker(anon_client):
    # Port 1 on loopback: nothing listens there, so the connection is really refused.
    with override_settings(DRAMATIQ_BROKER_URL="redis://127.0.0.1:1/0"):
        response = anon_client.get("/api/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"].startswith("error")
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_health_is_503_without_a_broker_or_an_in_process_worker(anon_client):
    """WEFT_INPROCESS_WORKER=false and no broker: nothing would ever execute a run."""
    with override_settings(DRAMATIQ_BROKER_URL="", WEFT_INPROCESS_WORKER=False):
        response = anon_client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "error: InProcessWorkerDown"


@pytest.mark.django_db
def test_health_follows_the_in_process_worker_threads(anon_client, inprocess_worker):
    alive = anon_client.get("/api/health")
    inprocess_worker.stop()
    stopped = anon_client.get("/api/health")

    assert (alive.status_code, alive.json()["checks"]["broker"]) == (200, "ok (in-process)")
    assert (stopped.status_code, stopped.json()["checks"]["broker"]) == (503, "error: InProcessWorkerDown")


@pytest.mark.django_db
@pytest.mark.parametrize("errors_swallowed", [False, True], ids=["raising", "ignoring-exceptions"])
def test_health_is_503_naming_an_unreachable_cache(anon_client, errors_swallowed):
    unreachable_cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # A cache that swallows its errors answers "not stored": the check must not take that for ok.
                "IGNORE_EXCEPTIONS": errors_swallowed,
            },
        }
    }
    with override_settings(CACHES=unreachable_cache):
        response = anon_client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")


@pytest.mark.django_db
def test_health_reports_an_unreachable_rabbitmq(anon_client):
    with override_settings(DRAMATIQ_BROKER_URL="amqp://guest:guest@127.0.0.1:1/"):
        response = anon_client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


@pytest.mark.services
@pytest.mark.django_db
def test_health_checks_a_real_rabbitmq(anon_client):
    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    with override_settings(DRAMATIQ_BROKER_URL=url):
        response = anon_client.get("/api/health")

    assert response.json()["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_every_response_carries_a_request_id(anon_client):
    generated = anon_client.get("/api/health")
    echoed = anon_client.get("/api/health", HTTP_X_REQUEST_ID="trace-123")
    replaced = anon_client.get("/api/health", HTTP_X_REQUEST_ID="bad id with spaces")

    assert len(generated["X-Request-ID"]) == 32
    assert echoed["X-Request-ID"] == "trace-123"
    assert replaced["X-Request-ID"] != "bad id with spaces"


@pytest.mark.django_db
def test_logs_are_json_lines_carrying_the_request_id(anon_client, capsys):
    logging.config.dictConfig(settings.LOGGING)  # binds the handler to capsys' stdout
    try:
        response = anon_client.get("/api/no-such-route")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        logging.config.dictConfig(settings.LOGGING)

    not_found = next(line for line in lines if line["logger"] == "django.request")
    assert not_found["level"] == "WARNING"
    assert not_found["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_bodies_over_the_limit_are_refused_with_413(alice_client):
    body = json.dumps({"name": "x" * (settings.WEFT_MAX_BODY_BYTES + 1)})

    response = alice_client.generic("POST", "/api/tokens", body, content_type="application/json")

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_with_production_settings_reports_no_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="workflowsite.settings",
        DJANGO_SECRET_KEY="a-production-secret-that-is-long-and-random-0123456789-abcdefghij",
        DJANGO_DEBUG="false",
        WEFT_ENCRYPTION_KEYS="d2VmdC1kZXBsb3ktY2hlY2sta2V5LTAwMDAwMDAwMDA=",
        DJANGO_ALLOWED_HOSTS="weft.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_with_the_default_secret():
    result = _manage("check", DJANGO_SETTINGS_MODULE="workflowsite.settings", DJANGO_DEBUG="false")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_malformed_boolean_setting_is_named():
    result = _manage("check", DJANGO_SETTINGS_MODULE="workflowsite.settings", DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_security_headers_are_on_every_response(anon_client):
    response = anon_client.get("/api/health")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]


@pytest.mark.django_db
def test_api_docs_and_schema_are_served_without_a_cdn(alice_client):
    docs = alice_client.get("/api/docs/")
    schema = alice_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert docs.status_code == 200
    assert b"cdn.jsdelivr" not in docs.content
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_api_docs_and_schema_need_a_login(anon_client, path):
    assert anon_client.get(path).status_code in {401, 403}


@pytest.mark.django_db
def test_an_api_error_with_a_dependency_down_is_a_json_500_with_the_request_id(alice):
    from rest_framework.test import APIClient

    unreachable_cache = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    client = APIClient(raise_request_exception=False)
    client.force_login(alice)
    with override_settings(CACHES=unreachable_cache):
        response = client.get("/api/workflows")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["requestId"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_a_page_error_keeps_the_html_500(alice):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with override_settings(ROOT_URLCONF="tests.broken_urls"):
        response = client.get("/boom")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_the_llm_sdks_do_not_log_every_call_at_info():
    for name in ("httpx", "httpx2", "google_genai"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name


@pytest.mark.parametrize(("value", "message"), [("0", "must be at least 1"), ("many", "must be an integer")])
def test_a_stream_cap_that_is_not_a_positive_number_is_refused(value, message):
    result = _manage(
        "check", DJANGO_SETTINGS_MODULE="workflowsite.test_settings", RUN_EVENTS_MAX_STREAMS_PER_USER=value
    )

    assert result.returncode != 0
    assert f"RUN_EVENTS_MAX_STREAMS_PER_USER {message}" in result.stderr


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "2"},
            "DATABASE_POOL_MIN_SIZE must be at least 1 and at most DATABASE_POOL_MAX_SIZE",
        ),
        (
            {
                "DATABASE_URL": "sqlite:///weft.sqlite3",
                "DATABASE_REPLICA_URLS": "postgres://weft@replica:5432/weft",
            },
            "DATABASE_REPLICA_URLS needs PostgreSQL",
        ),
    ],
    ids=["pool-min-over-max", "replicas-beside-sqlite"],
)
def test_database_settings_that_cannot_work_stop_start_up_naming_them(environment, message):
    result = _manage(
        "check", DJANGO_SETTINGS_MODULE="workflowsite.settings", DJANGO_DEBUG="true", **environment
    )

    assert result.returncode != 0
    assert message in result.stderr
