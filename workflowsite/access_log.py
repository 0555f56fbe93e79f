"""gunicorn's access log without query-string credentials (enabled by gunicorn.conf.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from workflowsite.logging import redact_query_string, redact_request_line, redact_url

_URL_ATOMS = ("f", "{referer}i", "{raw_uri}e", "{http_referer}e")


class RedactingAccessLogger(Logger):
    """gunicorn's logger, with query-string values redacted in every atom a format can name: the request
    line (%(r)s), the query (%(q)s) and the referer (%(f)s) would otherwise carry `?token=…` verbatim."""

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
