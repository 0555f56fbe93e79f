"""gunicorn's and uvicorn's access logs without credentials in URLs (gunicorn's enabled by gunicorn.conf.py,
uvicorn's by workflowsite/asgi.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from core.logging import redact_query_string, redact_request_line, redact_url

_URL_ATOMS = ("U", "f", "{referer}i", "{raw_uri}e", "{path_info}e", "{http_referer}e")


class RedactingAccessLogger(Logger):
    """gunicorn's logger, with URLs redacted in every atom a format can name: the request line (%(r)s), the
    path (%(U)s), the query (%(q)s) and the referer (%(f)s) would otherwise carry `?token=…` or a webhook's
    /hooks/<token> verbatim."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact_request_line(atoms["r"])
        for name in _URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_url(atoms[name])
        for name in ("q", "{query_string}e"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_query_string(atoms[name])
        return atoms


class RedactingUvicornAccessFilter(logging.Filter):
    """uvicorn's access log lines (`client - "METHOD full_path HTTP/x" status`) with the path redacted
    (query-string values, a webhook token); the record's arguments are rewritten, the line still written."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True
