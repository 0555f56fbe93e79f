"""A NUL character (`%00`) in a free-text URL part is a 404 like any unknown name, never a 500.

PostgreSQL refuses NUL in text, so a lookup with one raised DataError; the <text:> and <textpath:>
converters (core/converters.py) refuse it in the route instead.
"""

from __future__ import annotations

import pytest

from tests.factories import NodeResultFactory, WorkflowRunFactory
from tests.security.routes import discover_routes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/hooks/%00", "/hooks/a%00b", "/hooks/%00/"])
def test_a_nul_in_a_webhook_url_is_the_json_404_of_an_unknown_hook(anon_client, path):
    response = anon_client.post(path, {"topic": "x"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("node", ["%00", "text-1%00", "a/%00/b"])
def test_a_nul_in_a_node_id_is_a_404(alice, alice_client, node):
    run = WorkflowRunFactory(owner=alice)
    NodeResultFactory(run=run, node_id="text-1", output={"text": "hello"})

    response = alice_client.get(f"/api/runs/{run.pk}/nodes/{node}/output")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert alice_client.get(f"/api/runs/{run.pk}/nodes/text-1/output").status_code == 200


def test_no_route_takes_free_text_that_may_hold_a_nul():
    free_text = [
        (route.route, name)
        for route in discover_routes()
        for name, converter in getattr(route.pattern.pattern, "converters", {}).items()
        if type(converter).__name__ in {"StringConverter", "PathConverter", "SlugConverter"}
    ]

    assert free_text == []
