"""The HTTP Request kind on its own: its ports from placeholders, its checks, and what it makes of an answer,
with an in-memory web client standing in for the app's fetcher."""

from __future__ import annotations

import json

import pytest

from engine import (
    ExecutionContext,
    MemorySink,
    WebError,
    WebRequest,
    WebResponse,
    execute_graph,
    input_ports_for,
    validate_graph,
)
from tests.graphs import edge, graph, node

URL = "https://api.example/{{topic}}"


class CannedWeb:
    """Answers every request with `response` (or raises `error`), and keeps the requests."""

    def __init__(self, response: WebResponse | None = None, error: WebError | None = None) -> None:
        self.response = response or WebResponse(status=200, headers={}, body=b"")
        self.error = error
        self.requests: list[WebRequest] = []

    def send(self, request: WebRequest) -> WebResponse:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return self.response


def run_one(web: CannedWeb | None, **data):
    g = graph([node("t", "text", text="owls"), node("h", "http", **data)], [edge("t", "h", "text", "topic")])
    outcome = execute_graph(g, context=ExecutionContext(web=web), sink=MemorySink())
    return outcome.results["h"]


def test_placeholders_of_the_url_rows_and_body_are_input_ports_in_order():
    http = node(
        "h",
        "http",
        url="https://api.example/{{a}}",
        query=[{"name": "q", "value": "{{b}} {{a}}"}],
        headers=[{"name": "X-{{c}}", "value": "v"}],
        body="{{d}}",
    )

    assert [(p.name, p.type, p.required) for p in input_ports_for(http)] == [
        ("a", "text", True),
        ("b", "text", True),
        ("c", "text", True),
        ("d", "text", True),
    ]


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"url": " "}, "url", "give the URL"),
        ({"body": "{{not a name}}"}, "body", "unknown placeholder"),
        ({"headers": [{"name": "Bad Name", "value": "x"}]}, "headers[0].name", "not a valid header name"),
        ({"headers": [{"name": "Host", "value": "x"}]}, "headers[0].name", "set by Weft"),
        ({"query": [{"name": "", "value": "x"}]}, "query[0].name", "give a name"),
        ({"query": [{"name": "n", "value": 3}]}, "query[0].value", "must be text"),
        ({"bodyType": "json", "body": "{nope"}, "body", "not valid JSON"),
    ],
)
def test_what_is_wrong_with_a_request_is_said_on_its_field(data, path, message):
    issues = validate_graph(graph([node("h", "http", **{"url": "https://api.example/", **data})]))

    assert any(issue.path.endswith(path) and message in issue.message for issue in issues), issues


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b'{"a": [1]}', {"a": [1]}),
        ("application/problem+json; charset=utf-8", b'{"title": "x"}', {"title": "x"}),
        ("application/json", b"not json", "not json"),
        ("text/plain; charset=latin-1", "café".encode("latin-1"), "café"),
        ("", b"bytes", "bytes"),
    ],
)
def test_a_body_is_json_when_the_answer_says_so_and_parses_else_text(content_type, body, expected):
    web = CannedWeb(WebResponse(status=200, headers={"content-type": content_type}, body=body))

    result = run_one(web, url="https://api.example/{{topic}}")

    assert result.output["body"] == expected
    assert web.requests[0].url == "https://api.example/owls"


def test_the_secrets_the_client_sent_are_removed_from_everything_output():
    echoed = json.dumps({"seen": "Bearer s3cret", "s3cret": ["s3cret"]}).encode()
    web = CannedWeb(
        WebResponse(
            status=200,
            headers={"content-type": "application/json", "x-echo": "Bearer s3cret"},
            body=echoed,
            secrets=("s3cret",),
        )
    )

    result = run_one(web, url="https://api.example/{{topic}}")

    assert "s3cret" not in json.dumps(result.output)
    assert result.output["body"] == {"seen": "Bearer [redacted]", "[redacted]": ["[redacted]"]}
    assert result.output["response"]["headers"]["x-echo"] == "Bearer [redacted]"


def test_the_client_s_refusals_fail_the_node_with_their_kind():
    too_slow = run_one(
        CannedWeb(error=WebError("http_timeout", "The server did not answer in time.")), url=URL
    )
    too_big = run_one(CannedWeb(error=WebError("output_limit", "The response is larger.")), url=URL)
    no_client = run_one(None, url=URL)

    assert (too_slow.error_kind, too_slow.error_message) == (
        "http_timeout",
        "The server did not answer in time.",
    )
    assert too_big.error_kind == "output_limit"
    assert no_client.error_kind == "configuration"


def test_a_body_is_sent_with_the_content_type_of_its_kind_unless_a_header_sets_one():
    web = CannedWeb()

    run_one(web, method="POST", url=URL, bodyType="text", body="about {{topic}}")
    run_one(
        web,
        method="POST",
        url=URL,
        bodyType="json",
        body='{"t": "{{topic}}"}',
        headers=[{"name": "content-type", "value": "application/vnd.api+json"}],
    )

    assert web.requests[0].body == b"about owls"
    assert ("Content-Type", "text/plain; charset=utf-8") in web.requests[0].headers
    assert [name for name, _ in web.requests[1].headers] == ["content-type"]


def test_a_request_names_its_auth_connection_for_the_client_and_carries_no_header_of_it():
    web = CannedWeb()

    run_one(web, url=URL, auth="weather-api")
    run_one(web, url=URL, auth="")

    assert web.requests[0].auth == "weather-api"
    assert web.requests[0].headers == ()
    assert web.requests[1].auth is None
