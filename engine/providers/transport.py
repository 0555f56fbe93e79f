"""Network-level exception types of the HTTP libraries the SDKs use (httpx, and httpx2 in google-genai)."""

from __future__ import annotations

import contextlib
import importlib

from engine.providers.base import AttemptFailed

_modules = []
for _name in ("httpx", "httpx2"):  # httpx2 only exists with recent google-genai releases
    with contextlib.suppress(ImportError):
        _modules.append(importlib.import_module(_name))

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = tuple(m.TransportError for m in _modules)
_TIMEOUT_ERRORS: tuple[type[BaseException], ...] = tuple(m.TimeoutException for m in _modules)


def transport_failure(exc: BaseException) -> AttemptFailed:
    """A failed attempt for one of TRANSPORT_ERRORS: worth retrying, and a timeout says so."""
    timeout = isinstance(exc, _TIMEOUT_ERRORS)
    return AttemptFailed(
        "timed out" if timeout else f"connection failed ({type(exc).__name__})",
        transient=True,
        timeout=timeout,
    )
