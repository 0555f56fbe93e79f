"""JSON a client can send that no database or parser should choke on: nesting far beyond any graph, numbers
out of float range, text PostgreSQL cannot store. Every JSON write answers 400 with the one error shape
and a path, and changes nothing; none of it may be a 500 (these were, on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import ApiToken
from runs.models import WorkflowRun
from tests.factories import text_to_debug_graph
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def _graph_body(extra: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: {**extra, **text_to_debug_graph("ok")}


# Every JSON write a client can make, with a body it accepts as it is.
JSON_WRITES = [
    ("post", "/api/workflows", _graph_body({"name": "x"})),
    ("put", "/api/workflows/{workflow}", _graph_body({"name": "x", "version": 1})),
    ("post", "/api/workflows/import", _graph_body({"name": "x"})),
    ("post", "/api/execute", _graph_body({})),
    ("post", "/api/tokens", lambda: {"name": "ok"}),
]
GRAPH_WRITES = JSON_WRITES[:4]


def _ids(writes: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{method} {template}" for method, template, _ in writes]


def _send(client, method: str, template: str, owned, body: str):
    url = template.format(workflow=owned.workflow.pk)
    return client.generic(method.upper(), url, body, content_type="application/json")


def _assert_refused(response, owned, *, path: str) -> list[dict[str, str]]:
    """A 400 in the API's error shape with an error at `path`, and nothing written."""
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["detail"]
    assert path in [error["path"] for error in body["errors"]], body
    owned.workflow.refresh_from_db()
    assert owned.workflow.version == 1
    assert Workflow.objects.count() == 1
    assert WorkflowRun.objects.count() == 1  # only the fixture's
    assert ApiToken.objects.count() == 1  # only the fixture's
    return body["errors"]


def _with_raw(body: dict[str, Any], placeholder: str, raw_json: str) -> str:
    """The body as JSON text with the string `placeholder` replaced by `raw_json`, which json.dumps
    would never write (a lone surrogate escape, 1e999, a deep array)."""
    text = json.dumps(body)
    assert json.dumps(placeholder) in text
    return text.replace(json.dumps(placeholder), raw_json)


# --- nesting -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [65, 5_000, 100_000])
@pytest.mark.parametrize(("method", "template", "body"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_a_body_nested_beyond_the_limit_is_a_400_on_every_json_write(
    alice_client, owned, method, template, body, levels
):
    deep = "[" * levels + "]" * levels

    response = _send(alice_client, method, template, owned, deep)

    [error] = _assert_refused(response, owned, path="body")
    assert error["message"] == "JSON parse error - nested deeper than 64 levels."


@pytest.mark.parametrize(("method", "template", "body"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_deep_nesting_inside_a_valid_body_is_a_400(alice_client, owned, method, template, body):
    # The body object and 4,999 arrays: 5,000 levels.
    raw = _with_raw({**body(), "description": "DEEP"}, "DEEP", "[" * 4_999 + "]" * 4_999)

    response = _send(alice_client, method, template, owned, raw)

    _assert_refused(response, owned, path="body")


def test_nesting_is_counted_outside_strings_only(alice_client, owned):
    # Brackets, escaped quotes and backslashes inside strings are text, not structure.
    text = '[[[[ \\" ]]]] \\\\' * 100 + "[" * 100

    response = alice_client.post("/api/workflows", {"name": "x", **text_to_debug_graph(text)}, format="json")

    assert response.status_code == 201
    assert response.json()["nodes"][0]["data"]["text"] == text


def test_a_graph_nested_up_to_the_limit_is_accepted_and_one_level_more_is_not(settings, alice_client):
    settings.JSON_MAX_DEPTH = 10
    # The body object, "nodes", the node and its "data" make 4 levels; the arrays in "blob" the rest.
    graph = text_to_debug_graph()

    def create_with_arrays(arrays: int):
        graph["nodes"][1]["data"]["blob"] = "NEST"
        raw = _with_raw({"name": "x", **graph}, "NEST", "[" * arrays + "]" * arrays)
        return alice_client.generic("POST", "/api/workflows", raw, content_type="application/json")

    assert create_with_arrays(6).status_code == 201
    refused = create_with_arrays(7)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"path": "body", "message": "JSON parse error - nested deeper than 10 levels."}
    ]


@pytest.mark.parametrize("body", ["[[[[", "[" * 100_000, '{"a": [}', "]]]][[[["])
def test_unbalanced_brackets_are_a_400_parse_error(alice_client, owned, body):
    response = _send(alice_client, "post", "/api/workflows", owned, body)

    [error] = _assert_refused(response, owned, path="body")
    assert error["message"].startswith("JSON parse error")


# --- numbers -------------------------------------------------------------------------------------------


NON_FINITE = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("number", NON_FINITE)
@pytest.mark.parametrize("where", ["position", "data"])
@pytest.mark.parametrize(("method", "template", "body"), GRAPH_WRITES, ids=_ids(GRAPH_WRITES))
def test_a_number_out_of_float_range_in_a_graph_is_a_400(
    alice_client, owned, method, template, body, where, number
):
    payload = body()
    if where == "position":
        payload["nodes"][0]["position"]["x"] = "NUMBER"
    else:
        payload["nodes"][1]["data"]["scale"] = "NUMBER"

    response = _send(alice_client, method, template, owned, _with_raw(payload, "NUMBER", number))

    [error] = _assert_refused(response, owned, path="body")
    assert "finite" in error["message"]


# --- text PostgreSQL cannot store ----------------------------------------------------------------------


def _text_in_graph(payload: dict[str, Any], where: str) -> dict[str, Any]:
    if where == "text":
        payload["nodes"][0]["data"]["text"] = "BAD"
    elif where == "key":
        payload["nodes"][1]["data"]["BAD"] = 1
    else:  # a string deep in a list inside data
        payload["nodes"][1]["data"]["items"] = ["fine", ["also fine", "BAD"]]
    return payload


@pytest.mark.parametrize(
    ("where", "path"),
    [("text", "nodes[0].data.text"), ("key", "nodes[1].data"), ("list", "nodes[1].data.items[1][1]")],
)
@pytest.mark.parametrize(("method", "template", "body"), GRAPH_WRITES, ids=_ids(GRAPH_WRITES))
def test_a_nul_character_in_a_graph_is_a_400_naming_where(
    alice_client, owned, method, template, body, where, path
):
    payload = _text_in_graph(body(), where)

    response = _send(alice_client, method, template, owned, _with_raw(payload, "BAD", '"a\\u0000b"'))

    [error] = _assert_refused(response, owned, path=path)
    assert "NUL" in error["message"]


@pytest.mark.parametrize("where", ["text", "key", "list"])
@pytest.mark.parametrize(("method", "template", "body"), GRAPH_WRITES, ids=_ids(GRAPH_WRITES))
def test_a_lone_surrogate_in_a_graph_is_a_400(alice_client, owned, method, template, body, where):
    payload = _text_in_graph(body(), where)

    response = _send(alice_client, method, template, owned, _with_raw(payload, "BAD", '"a\\ud800b"'))

    [error] = _assert_refused(response, owned, path="body")
    assert "surrogate" in error["message"]


@pytest.mark.parametrize("surrogate", ["\\ud800", "\\udfff", "\\udc00\\ud800", "x\\ud83d"])
@pytest.mark.parametrize(("method", "template", "body"), JSON_WRITES, ids=_ids(JSON_WRITES))
def test_a_lone_surrogate_in_any_string_of_any_json_write_is_a_400(
    alice_client, owned, method, template, body, surrogate
):
    # A name, the token name, execute's scope: fields that are no graph, stored or echoed in errors.
    payload = body()
    field = "scope" if template == "/api/execute" else "name"
    payload[field] = "BAD"

    response = _send(alice_client, method, template, owned, _with_raw(payload, "BAD", f'"{surrogate}"'))

    [error] = _assert_refused(response, owned, path="body")
    assert "surrogate" in error["message"]
    assert "\\ud" not in error["message"].lower()  # the raw value is not echoed


def test_paired_surrogates_and_escaped_backslashes_are_ordinary_text(alice_client):
    # "\\ud800" is a backslash followed by "ud800"; "\ud83d\ude00" is one emoji.
    raw = _with_raw({"name": "x", **text_to_debug_graph("TEXT")}, "TEXT", '"\\\\ud800 \\ud83d\\ude00"')

    response = alice_client.generic("POST", "/api/workflows", raw, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["nodes"][0]["data"]["text"] == "\\ud800 \U0001f600"


def test_execute_with_a_lone_surrogate_in_node_ids_is_a_400(alice_client, owned):
    payload = {**text_to_debug_graph(), "scope": "node", "nodeIds": ["BAD"]}

    response = _send(alice_client, "post", "/api/execute", owned, _with_raw(payload, "BAD", '"\\udbff"'))

    _assert_refused(response, owned, path="body")
