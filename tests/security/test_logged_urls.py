"""Credentials in a URL never reach the logs: query-string values (issue 18, point 8) and webhook tokens.

A token sent as `?token=` is refused, but Weft's request log (django.request's `request` field) and
gunicorn's access log (the request line, the referer) used to write it down with the query string.
"""

from __future__ import annotations

import json
import logging.config
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from core.logging import redact_request_line, redact_url

ROOT = Path(__file__).resolve().parents[2]
SECRET = "weft_Q2hlY2tTZWNyZXRUb2tlbkluUXVlcnlTdHJpbmc"


def test_redact_url_keeps_the_path_and_page_numbers_and_hides_every_other_value():
    assert redact_url("/api/runs?page=2&limit=50") == "/api/runs?page=2&limit=50"
    assert redact_url(f"/api/workflows?token={SECRET}&page=2") == "/api/workflows?token=REDACTED&page=2"
    assert redact_url(f"https://h/x?access_token={SECRET}#frag") == "https://h/x?access_token=REDACTED#frag"
    assert redact_url(f"/x?{SECRET}") == "/x?REDACTED"
    assert redact_url("/x?page=secret-not-a-number") == "/x?page=REDACTED"
    assert redact_url("/plain/path") == "/plain/path"
    assert redact_request_line(f"GET /x?token={SECRET} HTTP/1.1") == "GET /x?token=REDACTED HTTP/1.1"


def test_a_webhook_url_is_logged_with_only_the_first_characters_of_its_token():
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"

    assert redact_url(f"/hooks/{token}") == "/hooks/AbCd…"
    assert (
        redact_url(f"https://weft.example.com/hooks/{token}?page=2")
        == "https://weft.example.com/hooks/AbCd…?page=2"
    )
    assert redact_url("/hooks/AbCd…") == "/hooks/AbCd…"
    assert redact_request_line(f"POST /hooks/{token} HTTP/1.1") == "POST /hooks/AbCd… HTTP/1.1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [f"/api/workflows?token={SECRET}", f"/api/no-such-route?access_token={SECRET}&page=1"]
)
def test_the_request_log_does_not_write_a_query_string_credential(anon_client, capsys, url):
    logging.config.dictConfig(settings.LOGGING)  # binds the handler to capsys' stdout
    try:
        response = anon_client.get(url)
        out = capsys.readouterr().out
    finally:
        logging.config.dictConfig(settings.LOGGING)

    assert response.status_code in (401, 404)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    logged = next(line for line in lines if line["logger"] == "django.request")
    assert SECRET not in out
    assert "REDACTED" in logged["request"]
    assert url.split("?")[0] in logged["request"]


def test_gunicorns_access_log_from_the_project_config_does_not_write_credentials(monkeypatch, tmp_path):
    from gunicorn.app.wsgiapp import WSGIApplication

    monkeypatch.chdir(ROOT)  # gunicorn reads ./gunicorn.conf.py, as in the Dockerfile's working directory
    monkeypatch.setattr(sys, "argv", ["gunicorn", "workflowsite.wsgi:application"])
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    app = WSGIApplication()
    access_log = tmp_path / "access.log"
    app.cfg.set("accesslog", str(access_log))
    app.cfg.set("access_log_format", '%(h)s "%(r)s" %(U)s %(s)s "%(f)s"')
    logger = app.cfg.logger_class(app.cfg)

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/hooks/{SECRET}?token={SECRET}&page=2",
        "PATH_INFO": f"/hooks/{SECRET}",
        "QUERY_STRING": f"token={SECRET}&page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://weft.example.com/settings?key={SECRET}",
        "HTTP_USER_AGENT": "curl/8",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="401 Unauthorized", sent=58, headers=[])
    logger.access(response, request, environ, timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()

    line = access_log.read_text()
    assert "GET /hooks/weft…?token=REDACTED&page=2 HTTP/1.1" in line
    assert " /hooks/weft… " in line  # %(U)s, the path
    assert "settings?key=REDACTED" in line
    assert SECRET not in line


def test_uvicorns_access_log_under_the_asgi_app_does_not_write_credentials():
    import workflowsite.asgi  # noqa: F401  (what gunicorn's uvicorn worker and `make run` load)

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    access = logging.getLogger("uvicorn.access")
    handler = Keep()
    access.addHandler(handler)
    # An in-process uvicorn of another test (the MCP servers') sets the level to its own `log_level`.
    level = access.level
    access.setLevel(logging.INFO)
    try:
        # uvicorn's own call: client, method, full path, HTTP version, status.
        path = f"/hooks/{SECRET}?token={SECRET}&page=2"
        access.info('%s - "%s %s HTTP/%s" %d', "203.0.113.7:5000", "POST", path, "1.1", 401)
    finally:
        access.setLevel(level)
        access.removeHandler(handler)

    line = records[0].getMessage()
    assert '"POST /hooks/weft…?token=REDACTED&page=2 HTTP/1.1" 401' in line
    assert SECRET not in line
