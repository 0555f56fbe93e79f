"""Schemathesis' coverage and fuzzing phases over the whole of /api/schema/, as Alice with a token: no
operation answers a 5xx, and every answer is as documented.

The coverage phase sends each parameter's boundary and near-boundary values (the largest integer the schema
allows, one past it, wrong types); the fuzzing phase random ones. Ids in paths that are well-formed are
Alice's real objects, so bodies reach the services rather than a 404. Two seeds: a fixed one, and a random one
that is in the test's id (`[seed=...]`) so a failure can be replayed with SCHEMATHESIS_SEED.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

import pytest
import schemathesis
from schemathesis.config import HealthCheck
from schemathesis.core.failures import FailureGroup
from schemathesis.pytest.lazy import get_all_tests

from accounts.services import api_token_create
from tests.security.fuzz import CHECKS, wsgi_keeps_the_test_connection
from tests.security.owned import Owned, make_owned
from workflowsite.wsgi import application

FIXED_SEED = 20261207
RANDOM_SEED = int(os.environ.get("SCHEMATHESIS_SEED") or random.SystemRandom().randrange(2**32))
# Fuzzing examples per operation (the coverage phase sends all of its cases whatever this says).
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
# Path parameters pinned to Alice's objects when the generated value is well-formed.
PINNED = {"workflow_id", "run_id", "upload_id", "token_id", "webhook_id", "schedule_id"}


class AlicesObjects:
    """Alice's objects that well-formed ids in paths are replaced by; made again after one is deleted."""

    def __init__(self, alice: Any) -> None:
        self.alice = alice
        self.owned: Owned = make_owned(alice)

    def pin(self, case: Any) -> None:
        real = self.owned.url_kwargs
        for name, value in (case.path_parameters or {}).items():
            if name in PINNED and _well_formed(value):
                case.path_parameters[name] = real[name]

    def after(self, case: Any, status_code: int) -> None:
        if case.method.upper() == "DELETE" and status_code < 300:
            self.owned = make_owned(self.alice)


def _well_formed(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@pytest.fixture
def alices_objects(alice, media_root) -> AlicesObjects:
    return AlicesObjects(alice)


def _schema(*, auth: dict[str, str], seed: int) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=auth)
    schema.config.seed = seed
    schema.config.phases.update(phases=["coverage", "fuzzing"])
    # Every call is Alice's (each call's headers): unauthenticated cases would only meet the 401.
    schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)
    schema.config.update(suppress_health_check=[HealthCheck.all])
    return schema


@pytest.mark.slow
# Every operation of the API, in two phases: about 100 s on a quiet machine, more as the API grows.
@pytest.mark.timeout(600)
@pytest.mark.django_db
@pytest.mark.parametrize("seed", [FIXED_SEED, RANDOM_SEED], ids=lambda seed: f"seed={seed}")
def test_no_operation_answers_a_server_error_or_off_its_schema(
    alice, alices_objects, settings, site_worker, seed
):
    # site_worker: /api/health's success answer is 200 only when something can execute runs. The per-user
    # caps are tested elsewhere; here they would only turn valid executions into 429s.
    settings.RUN_MAX_ACTIVE_PER_USER = 10_000
    settings.EXECUTE_RATE_LIMIT = "10000/m"

    # Not a token of alices_objects: the one in paths is deleted now and then.
    auth = {"Authorization": f"Bearer {api_token_create(owner=alice, name='schemathesis').secret}"}

    def check(case: Any) -> None:
        alices_objects.pin(case)
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        alices_objects.after(case, response.status_code)

    failures: dict[str, str] = {}
    with wsgi_keeps_the_test_connection():
        schema = _schema(auth=auth, seed=seed)
        # What schemathesis' pytest loader does per operation (its lazy loader fails under pytest 9).
        for result in get_all_tests(schema=schema, test_func=check, settings=None, given_kwargs=None):
            operation, test = result.ok()
            try:
                test()
            except (AssertionError, FailureGroup) as exc:
                errors = getattr(exc, "exceptions", [exc])
                failures[operation.label] = "\n".join(str(error) for error in errors)

    assert not failures, f"seed={seed}\n\n" + "\n\n".join(
        f"{label}:\n{text}" for label, text in failures.items()
    )
