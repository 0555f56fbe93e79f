"""Refused bad input (Django's SuspiciousOperation family) is logged at WARNING without a traceback, like
every other 400; errors of Weft's own stay errors."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings

from core.logging import RefusedInputAsWarningFilter

TOO_MANY_FIELDS = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))


@contextmanager
def weft_logging(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Weft's LOGGING, its handler writing to the current (captured) stdout; caplog's handler after it."""
    logging.config.dictConfig(settings.LOGGING)
    logging.getLogger().addHandler(caplog.handler)  # dictConfig replaced the root logger's handlers
    try:
        yield
    finally:
        logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda client: client.get(f"/api/workflows?{TOO_MANY_FIELDS}"), id="query string"),
        pytest.param(
            lambda client: client.post(
                "/accounts/login/", TOO_MANY_FIELDS, content_type="application/x-www-form-urlencoded"
            ),
            id="form body",
        ),
    ],
)
def test_too_many_fields_is_a_400_logged_at_warning_without_a_traceback(alice_client, capsys, caplog, send):
    with weft_logging(caplog):
        response = send(alice_client)
        out = capsys.readouterr().out

    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    written = [line for line in lines if line["logger"] == "django.security.TooManyFieldsSent"]
    recorded = [record for record in caplog.records if record.name == "django.security.TooManyFieldsSent"]
    assert response.status_code == 400
    assert [(line["level"], "exc_info" in line) for line in written] == [("WARNING", False)]
    assert "Traceback" not in out
    assert [(record.levelno, record.exc_info) for record in recorded] == [(logging.WARNING, None)]


@pytest.mark.django_db
def test_under_the_api_the_refusal_is_the_api_error_shape(alice_client):
    response = alice_client.get(f"/api/workflows?{TOO_MANY_FIELDS}")

    assert response.status_code == 400
    body = response.json()
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in body["detail"]
    assert body["errors"] == [{"path": "body", "message": body["detail"]}]


@pytest.mark.parametrize(
    ("logger", "level", "written_as"),
    [
        ("django.security.RequestDataTooBig", logging.ERROR, logging.WARNING),
        ("django.security.DisallowedHost", logging.ERROR, logging.WARNING),
        ("django.security.csrf", logging.WARNING, logging.WARNING),
        ("django.request", logging.ERROR, logging.ERROR),
        ("runs.tasks", logging.ERROR, logging.ERROR),
    ],
)
def test_only_djangos_refusals_are_lowered(logger, level, written_as):
    try:
        raise ValueError("boom")
    except ValueError as exc:
        record = logging.LogRecord(logger, level, __file__, 1, "message", (), (type(exc), exc, None))

    assert RefusedInputAsWarningFilter().filter(record)
    assert record.levelno == written_as
    assert (record.exc_info is None) == (written_as != level)
