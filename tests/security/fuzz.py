"""Schemathesis against the live WSGI app, shared by the schema tests: authenticated calls, every check,
generated cases plus cases aimed at real objects with valid bodies so that 2xx answers are checked too."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from workflowsite.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per strategy (generated positive, generated negative, pinned to real objects, valid body).
# Small by default so that CI stays fast; SCHEMATHESIS_MAX_EXAMPLES=200 for a deeper run.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))


@contextmanager
def wsgi_keeps_the_test_connection() -> Iterator[None]:
    """Call the WSGI app as Django's test client does: without closing the test's database connection at
    the end of each request (it would end the test transaction on PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_operations(*, token: str, path_regex: str | None = None) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=_auth(token))
    if path_regex:
        schema = schema.include(path_regex=path_regex)
    return [result.ok() for result in schema.get_all_operations()]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _strategy(operation: Any, real_path: Mapping[str, Any], valid_body: Any | None) -> st.SearchStrategy:
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    pinned = {name: value for name, value in real_path.items() if f"{{{name}}}" in operation.path}
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if pinned:
        strategies += [operation.as_strategy(generation_mode=mode, path_parameters=pinned) for mode in modes]
    if valid_body is not None:
        media_type = next(iter(operation.body)).media_type
        strategies.append(
            operation.as_strategy(path_parameters=pinned, body=valid_body, media_type=media_type)
        )
    return st.one_of(strategies)


def fuzz_operation(
    operation: Any,
    *,
    token: str,
    real_path: Mapping[str, Any],
    valid_body: Any | None = None,
    max_examples: int = MAX_EXAMPLES,
    checks: list[Callable[..., Any]] = CHECKS,
) -> None:
    """Call `operation` with generated and aimed cases; any 5xx or schema mismatch raises.

    With `valid_body`, that body is sent once first to the real objects, so the success answer is always
    among those checked (and, for a DELETE or a version bump, later cases meet the 404 or 409 instead).
    """
    pinned = {name: value for name, value in real_path.items() if f"{{{name}}}" in operation.path}
    if valid_body is not None:
        media_type = next(iter(operation.body)).media_type
        aimed = operation.Case(path_parameters=pinned, body=valid_body, media_type=media_type)
        aimed.call_and_validate(headers=_auth(token), checks=checks)
    elif pinned or not operation.body:
        operation.Case(path_parameters=pinned).call_and_validate(headers=_auth(token), checks=checks)

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, real_path, valid_body))
    def check(case: Any) -> None:
        case.call_and_validate(headers=_auth(token), checks=checks)

    check()
