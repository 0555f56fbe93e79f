"""The ownership matrix: every route the resolver knows, every method it implements, three users.

Alice owns the objects named in the URL and gets what the route promises; Bob gets a 404 (or, on a
collection, his own data without a trace of Alice's); an anonymous client gets 401 from the API and the
login redirect from a page. Only /api/health is public. A route added without an entry here fails
`test_every_route_is_in_the_matrix` with its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from tests.files import image_bytes
from tests.graphs import text_to_debug_graph
from tests.security.owned import Owned
from tests.security.routes import EXCLUDED_PREFIXES, discover_routes

pytestmark = pytest.mark.django_db

API_ANON = 401  # the Bearer authenticator's challenge turns an anonymous API request into a 401
PAGE_ANON = 302  # login_required: to the login page
LOGIN_URL = "/accounts/login/"


@dataclass(frozen=True)
class Expect:
    owner: int
    other: int = 404
    anonymous: int = API_ANON
    body: Callable[[Owned], dict[str, Any]] | None = None
    multipart: bool = False


def _graph(owned: Owned) -> dict[str, Any]:
    return {"name": "New", **text_to_debug_graph()}


def _put(owned: Owned) -> dict[str, Any]:
    return {"name": "Edited", "description": "", "version": 1, **text_to_debug_graph()}


def _image(owned: Owned) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("cat.png", image_bytes(size=(8, 8)), content_type="image/png")}


def _experiment_body(owned: Owned) -> dict[str, Any]:
    return {
        "workflowId": str(owned.workflow.pk),
        "datasetId": str(owned.dataset.pk),
        "evaluators": [{"name": "right", "type": "exact", "output": "answer"}],
    }


COLLECTION = {"other": 200}  # Bob sees his own (empty) collection, never Alice's items

MATRIX: dict[str, dict[str, Expect]] = {
    "api-health": {"get": Expect(200, other=200, anonymous=200)},
    # Only METRICS_TOKEN scrapes (tests/runs/test_metrics.py); unset, as here, the route is a 404 to everyone.
    "metrics": {"get": Expect(404, other=404, anonymous=404)},
    "api-token-list": {
        "get": Expect(200, **COLLECTION),
        "post": Expect(201, other=201, body=lambda owned: {"name": "new"}),
    },
    "api-token-detail": {"delete": Expect(204)},
    "api-workflow-list": {"get": Expect(200, **COLLECTION), "post": Expect(201, other=201, body=_graph)},
    "api-workflow-templates": {"get": Expect(200, **COLLECTION)},
    "api-workflow-from-template": {
        "post": Expect(201, other=201, body=lambda owned: {"template": "extract-json"}),
    },
    "api-workflow-import": {"post": Expect(201, other=201, body=_graph)},
    "api-workflow-detail": {"get": Expect(200), "put": Expect(200, body=_put), "delete": Expect(204)},
    "api-workflow-versions": {"get": Expect(200)},
    "api-workflow-version": {"get": Expect(200)},
    "api-workflow-version-restore": {"post": Expect(200)},
    "api-workflow-duplicate": {"post": Expect(201)},
    "api-workflow-export": {"get": Expect(200)},
    "api-node-kinds": {"get": Expect(200, **COLLECTION)},
    "api-port-types": {"get": Expect(200, **COLLECTION)},
    # Executing names Alice's workflow in the body: for Bob it does not exist.
    "api-execute": {"post": Expect(202, body=lambda owned: {"workflowId": str(owned.workflow.pk)})},
    "api-execute-plan": {"post": Expect(200, body=lambda owned: {"workflowId": str(owned.workflow.pk)})},
    "api-usage": {"get": Expect(200, **COLLECTION)},
    "api-run-list": {"get": Expect(200, **COLLECTION)},
    "api-run-detail": {"get": Expect(200)},
    "api-run-logs": {"get": Expect(200)},
    "api-run-events": {"get": Expect(200)},
    "api-run-node-output": {"get": Expect(200)},
    "api-run-cancel": {"post": Expect(202)},
    "api-run-rerun": {"post": Expect(202)},
    # Alice's run is still queued (cancel answers 202), so resuming it is a conflict; Bob's is a 404.
    "api-run-resume": {"post": Expect(409)},
    # Alice's run asked for no approval (it is queued), so deciding one is a 404 for her too; its own tests
    # (tests/runs/test_approvals.py) decide a waiting run's and show Bob a 404 there.
    "api-run-approval-decide": {"post": Expect(404, body=lambda owned: {"decision": "approve"})},
    "api-approvals": {"get": Expect(200, **COLLECTION)},
    "api-workflow-publish": {"post": Expect(200), "delete": Expect(200)},
    "api-workflow-runs": {"post": Expect(202, body=lambda owned: {"inputs": {}})},
    "api-workflow-mcp": {
        "get": Expect(200),
        "put": Expect(200, body=lambda owned: {"enabled": True, "name": "alice_tool"}),
    },
    "api-webhook-list": {"get": Expect(200), "post": Expect(201, body=lambda owned: {"name": "new"})},
    "api-webhook-detail": {
        "get": Expect(200),
        "patch": Expect(200, body=lambda owned: {"name": "renamed"}),
        "delete": Expect(204),
    },
    "api-webhook-rotate": {"post": Expect(200)},
    "api-schedule-list": {
        "get": Expect(200),
        "post": Expect(201, body=lambda owned: {"cron": "*/5 * * * *"}),
    },
    "api-schedule-detail": {
        "get": Expect(200),
        "patch": Expect(200, body=lambda owned: {"cron": "0 10 * * *"}),
        "delete": Expect(204),
    },
    # The webhook URL is its own key (no login): anyone holding it starts a run of Alice's workflow.
    "webhook-call": {"post": Expect(202, other=202, anonymous=202, body=lambda owned: {})},
    "api-model-list": {"get": Expect(200, **COLLECTION)},
    "api-connection-list": {
        "get": Expect(200, **COLLECTION),
        "post": Expect(
            201,
            other=201,
            body=lambda owned: {"name": "Mine", "slug": "mine", "kind": "openai", "secret": "sk-new-1234"},
        ),
    },
    "api-connection-detail": {
        "get": Expect(200),
        "patch": Expect(200, body=lambda owned: {"name": "renamed"}),
        "delete": Expect(204),
    },
    # Alice's connection points at loopback: the test answers ok=false naming the rule, the model list 424.
    "api-connection-test": {"post": Expect(200)},
    "api-connection-models": {"get": Expect(424)},
    # Alice's connection is an OpenAI-compatible one: it has no tools to list.
    "api-connection-tools": {"get": Expect(400)},
    "api-upload-list": {
        "get": Expect(200, **COLLECTION),
        "post": Expect(201, other=201, body=_image, multipart=True),
    },
    "api-upload-detail": {"get": Expect(200), "delete": Expect(204)},
    "api-upload-content": {"get": Expect(200)},
    "api-workflow-diff": {"get": Expect(400)},  # Alice's answer names the missing `from` and `to`
    "api-dataset-list": {
        "get": Expect(200, **COLLECTION),
        "post": Expect(201, other=201, body=lambda owned: {"name": "cases"}),
    },
    "api-dataset-detail": {"get": Expect(200), "delete": Expect(204)},
    "api-dataset-rows": {
        "get": Expect(200),
        "post": Expect(200, body=lambda owned: {"rows": [{"inputs": {}}]}),
    },
    # Alice's workflow has no output for the evaluator to read: her answer is the 400 naming
    # evaluators[0].output (tests/evaluations start real ones); Bob is told her workflow does not exist.
    "api-experiment-list": {"get": Expect(200, **COLLECTION), "post": Expect(400, body=_experiment_body)},
    "api-experiment-plan": {"post": Expect(400, body=_experiment_body)},
    # No `a` and `b` in the query: a 400 for anyone signed in (tests/evaluations compare real ones).
    "api-experiment-compare": {"get": Expect(400, other=400)},
    "api-experiment-detail": {"get": Expect(200)},
    "api-experiment-items": {"get": Expect(200)},
    "api-experiment-cancel": {"post": Expect(200)},
    "api-schema": {"get": Expect(200, **COLLECTION)},
    "api-docs": {"get": Expect(200, **COLLECTION)},
    # Pages: function views answer GET; their data comes from the API above.
    "home": {"get": Expect(302, other=302, anonymous=PAGE_ANON)},
    "workflow-list-page": {"get": Expect(200, other=200, anonymous=PAGE_ANON)},
    "workflow-editor-page": {"get": Expect(200, anonymous=PAGE_ANON)},
    "workflow-experiments-page": {"get": Expect(200, anonymous=PAGE_ANON)},
    "run-list-page": {"get": Expect(200, other=200, anonymous=PAGE_ANON)},
    "run-detail-page": {"get": Expect(200, anonymous=PAGE_ANON)},
    "usage-page": {"get": Expect(200, other=200, anonymous=PAGE_ANON)},
    "approval-inbox-page": {"get": Expect(200, other=200, anonymous=PAGE_ANON)},
    # An approval's emailed link: to the run page for Alice, a 404 for Bob.
    "approval-link-page": {"get": Expect(302, anonymous=PAGE_ANON)},
    "tokens-page": {"get": Expect(200, other=200, anonymous=PAGE_ANON)},
    "connections-page": {"get": Expect(200, other=200, anonymous=PAGE_ANON)},
}

ROUTES = {route.name: route for route in discover_routes()}
CASES = [(name, method) for name in sorted(ROUTES) for method in MATRIX.get(name, {})]


def test_every_route_is_in_the_matrix():
    missing = sorted(set(ROUTES) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(ROUTES))

    assert not missing, f"routes without an ownership expectation: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"


def test_every_implemented_method_is_in_the_matrix():
    mismatched = {
        name: (route.methods, sorted(MATRIX.get(name, {})))
        for name, route in ROUTES.items()
        if route.methods is not None and sorted(route.methods) != sorted(MATRIX.get(name, {}))
    }

    assert not mismatched, f"implemented vs declared methods differ: {mismatched}"


def test_the_exclusions_are_the_third_party_and_admin_trees_only():
    assert set(EXCLUDED_PREFIXES) == {"admin/", "accounts/", "api-auth/", "static/"}
    assert len(ROUTES) >= 29  # the walk reached the API, the schema, and the pages


def _call(client: APIClient, method: str, url: str, expect: Expect, owned: Owned) -> Any:
    if expect.body is None:
        return getattr(client, method)(url)
    body = expect.body(owned)
    return getattr(client, method)(url, body, format="multipart" if expect.multipart else "json")


@pytest.mark.parametrize(("name", "method"), CASES)
def test_owner_other_user_and_anonymous_get_what_the_route_promises(
    name, method, owned, anon_client, alice_client, bob_client, request
):
    route, expect = ROUTES[name], MATRIX[name][method]
    if name == "api-health":
        request.getfixturevalue("site_worker")  # healthy means something can execute runs
    url = reverse(name, kwargs={key: owned.url_kwargs[key] for key in route.converters})

    # Strangers first, so that a write they could make would show in the owner's answer.
    anonymous = _call(anon_client, method, url, expect, owned)
    other = _call(bob_client, method, url, expect, owned)
    mine = _call(alice_client, method, url, expect, owned)

    assert anonymous.status_code == expect.anonymous, anonymous.content[:300]
    if expect.anonymous == PAGE_ANON:
        assert anonymous["Location"].startswith(LOGIN_URL)
    elif expect.anonymous == API_ANON:
        assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert other.status_code == expect.other, other.content[:300]
    leaked = b"".join(other.streaming_content) if other.streaming else other.content
    assert not [marker for marker in owned.markers if marker.encode() in leaked]
    assert mine.status_code == expect.owner, mine.content[:300]
