"""Schemathesis over every operation of /api/schema/, authenticated: no 5xx, every answer as documented.

Each operation runs against fresh objects of Alice's (a workflow, a queued run, an upload, a token) so
that deletes and version bumps do not starve the next one. SCHEMATHESIS_MAX_EXAMPLES sets the depth.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from schemathesis.core.failures import FailureGroup

from accounts.models import ApiToken
from runs.models import WorkflowRun
from tests.files import image_bytes
from tests.graphs import text_to_debug_graph
from tests.security.fuzz import fuzz_operation, load_operations, wsgi_keeps_the_test_connection
from tests.security.owned import make_owned
from tests.security.routes import discover_routes
from uploads.models import Upload
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

# Not operations of the API but the documentation of it.
UNDOCUMENTED = {"api-schema": "the schema itself", "api-docs": "Swagger UI"}


def api_operations_in_the_url_conf() -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every API view the resolver knows, so that none can escape the fuzzing."""
    return {
        (method, "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.route))
        for route in discover_routes()
        if route.route.startswith("api/") and route.name not in UNDOCUMENTED
        for method in route.methods or ()
    }


# A body each operation accepts, so that its success answer is validated as well as its errors.
VALID_BODIES: dict[str, Any] = {
    "workflows_create": {"name": "Valid", "description": "", **text_to_debug_graph()},
    "workflows_update": {"name": "Valid", "description": "", "version": 1, **text_to_debug_graph()},
    "workflows_import": {"weft": 1, "name": "Imported", **text_to_debug_graph()},
    "execute": text_to_debug_graph(),
    "tokens_create": {"name": "fuzz"},
    "uploads_create": {"file": image_bytes(size=(8, 8))},
}


def test_every_operation_is_fuzzed(alice, owned, settings, site_worker):
    # site_worker: /api/health's success answer is 200 only when something can execute runs.
    # The per-user caps are exercised elsewhere; here they would only turn valid executions into 429s.
    settings.RUN_MAX_ACTIVE_PER_USER = 10_000
    settings.EXECUTE_RATE_LIMIT = "10000/m"
    settings.API_TOKENS_MAX_PER_USER = 10_000  # each operation gets fresh objects, a token among them
    failures: dict[str, str] = {}
    with wsgi_keeps_the_test_connection():
        operations = load_operations(token=owned.token_secret)
        ids = {operation.definition.raw["operationId"] for operation in operations}
        documented = {(operation.method.lower(), operation.path) for operation in operations}
        assert documented == api_operations_in_the_url_conf()
        assert set(VALID_BODIES) <= ids

        for operation in operations:
            operation_id = operation.definition.raw["operationId"]
            # Fresh objects per operation: a DELETE or a version bump must not starve the next one. The
            # token in the path is never the one the calls authenticate with.
            fresh = make_owned(alice).url_kwargs
            try:
                fuzz_operation(
                    operation,
                    token=owned.token_secret,
                    real_path=fresh,
                    valid_body=VALID_BODIES.get(operation_id),
                )
            except (AssertionError, FailureGroup) as exc:  # each operation's failures, not only the first
                failures[operation_id] = "\n".join(str(error) for error in getattr(exc, "exceptions", [exc]))

    # The aimed cases reached the success paths, so those answers were validated too. uploads_destroy
    # deleted one of the fixtures' uploads, so the aimed upload alone leaves the count where it was.
    made_by_fixtures = len(operations) + 1
    assert Upload.objects.count() >= made_by_fixtures
    assert WorkflowRun.objects.count() > made_by_fixtures
    assert ApiToken.objects.filter(name="fuzz").exists()
    assert Workflow.objects.filter(name="Imported").exists()
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
