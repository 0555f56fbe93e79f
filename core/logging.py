"""Log records: one request id per request, and URLs written without credentials (query-string values, and
the secret token of a webhook URL).

Nothing here imports Django: gunicorn's access logger (core/access_log.py) uses it before Django
is set up.
"""

from __future__ import annotations

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "REDACTED"
# Page numbers are worth keeping in a log and cannot be credentials; every other value is dropped, because
# no list of parameter names (token, key, signature, X-Amz-Credential, code…) is ever complete.
_KEPT_NUMERIC_PARAMETERS = frozenset({"page", "limit"})
_PARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-\[\]]{0,31}$")
# A webhook's URL is its credential (an unsigned hook has no other): a log keeps only the token's first
# characters, enough to tell hooks apart (the API shows the same prefix), not to call one.
HOOK_TOKEN_SHOWN_CHARS = 4
_HOOK_TOKEN = re.compile(r"(/hooks/)([^/?#\s]+)")


def _shorten_hook_token(match: re.Match[str]) -> str:
    token = match.group(2)
    if len(token) <= HOOK_TOKEN_SHOWN_CHARS + 1:  # already short (or already redacted: "AbCd…")
        return match.group(0)
    return f"{match.group(1)}{token[:HOOK_TOKEN_SHOWN_CHARS]}…"


def redact_hook_tokens(text: str) -> str:
    """`text` with the token of every /hooks/<token> cut to its first characters: /hooks/AbCd…"""
    return _HOOK_TOKEN.sub(_shorten_hook_token, text)


def _redact_pair(pair: str) -> str:
    name, has_value, value = pair.partition("=")
    if not _PARAMETER_NAME.match(name):
        # A bare value (`?weft_…`) or a name that could itself be a secret.
        return REDACTED
    if not has_value:
        return name
    if name in _KEPT_NUMERIC_PARAMETERS and value.isdigit():
        return pair
    return f"{name}={REDACTED}"


def redact_query_string(query: str) -> str:
    return "&".join(_redact_pair(pair) if pair else pair for pair in query.split("&"))


def redact_url(url: str) -> str:
    """The URL (or path) with a webhook token shortened and every query-string value but page numbers
    replaced by REDACTED."""
    before, has_query, rest = redact_hook_tokens(url).partition("?")
    if not has_query:
        return before
    query, has_fragment, fragment = rest.partition("#")
    return f"{before}?{redact_query_string(query)}{'#' + fragment if has_fragment else ''}"


def redact_request_line(line: str) -> str:
    """`GET /path?query HTTP/1.1` with the URL redacted."""
    return " ".join(redact_url(word) for word in line.split(" "))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactUrlsFilter(logging.Filter):
    """Django logs 4xx/5xx as `Unauthorized: /path` with `extra={"request": request}`, whose repr is the full
    path with its query string; the JSON formatter writes it as the `request` field. This writes both in
    the redacted form. It is set on the django.request and django.server loggers (so that every handler,
    a test's caplog too, gets redacted records) and on the stdout handler (for the other loggers that pass
    a request, such as django.security.*)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        get_full_path = getattr(request, "get_full_path", None)
        if callable(get_full_path):
            record.request = f"<{type(request).__name__}: {request.method} {redact_url(get_full_path())!r}>"
        if record.name == "django.request" and record.args and isinstance(record.args, tuple):
            # log_response's arguments: the reason phrase or method, and the path.
            record.args = tuple(redact_url(arg) if isinstance(arg, str) else arg for arg in record.args)
        if record.name == "django.server" and record.args and isinstance(record.args, tuple):
            # runserver's request line, `"GET /path?query HTTP/1.1" 200 12`.
            record.args = (redact_request_line(str(record.args[0])), *record.args[1:])
        return True


class RefusedInputAsWarningFilter(logging.Filter):
    """Django answers a SuspiciousOperation (over DATA_UPLOAD_MAX_NUMBER_FIELDS fields, a body too big, a
    Host not allowed...) with a 400 but logs it on `django.security.<name>` at ERROR with a traceback. It is
    the client's bad input, like every other 400: this writes it at WARNING, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security.") and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.exc_info, record.exc_text = None, None
        return True
