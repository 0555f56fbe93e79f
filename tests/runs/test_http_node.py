"""HTTP Request nodes in runs, against a loopback echo server that HTTP_ALLOWED_NETWORKS lets them reach:
templated requests, bodies read as JSON or text, statuses, and the SSRF and size limits of the fetcher."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runs.driving import run_execute
from runs.models import NodeResult, NodeStatus, RunStatus, WorkflowRun
from runs.services import run_create
from tests.graphs import edge, graph, node

pytestmark = pytest.mark.django_db


def execute(owner, graph_: dict[str, list], **options: Any) -> WorkflowRun:
    run = run_create(owner=owner, graph=graph_, enqueue=False, **options)
    return run_execute(run_id=str(run.id))


def request_graph(city: str = "Paris", **http_data: Any) -> dict[str, list]:
    """Text `city` feeding the `city` placeholder of HTTP node `h`."""
    return graph(
        [node("city", "text", text=city), node("h", "http", **http_data)],
        [edge("city", "h", "text", "city")],
    )


def result(run: WorkflowRun, node_id: str = "h") -> NodeResult:
    return NodeResult.objects.get(run=run, node_id=node_id)


def test_the_url_query_headers_and_json_body_are_filled_from_the_inputs(alice, web_allowed):
    server = web_allowed
    run = execute(
        alice,
        request_graph(
            "Saint Malo",
            method="POST",
            url=server.url("/echo/{{city}}"),
            query=[{"name": "q", "value": "weather in {{city}}"}],
            headers=[{"name": "X-City", "value": "{{city}}"}],
            bodyType="json",
            body='{"city": "{{city}}", "days": 3}',
        ),
    )

    assert run.status == RunStatus.SUCCEEDED
    (seen,) = server.requests
    assert (seen.method, seen.path, seen.query) == (
        "POST",
        "/echo/Saint%20Malo",
        {"q": ["weather in Saint Malo"]},
    )
    assert seen.headers["x-city"] == "Saint Malo"
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == {"city": "Saint Malo", "days": 3}
    output = result(run).output
    assert output["status"] == 200
    assert output["body"]["method"] == "POST"
    assert output["response"]["status"] == 200
    assert output["response"]["headers"]["content-type"] == "application/json"
    assert output["response"]["body"] == output["body"]


def test_a_text_answer_is_output_as_text(alice, web_allowed):
    run = execute(alice, request_graph(url=web_allowed.url("/text?about={{city}}")))

    assert result(run).output["body"] == "plain wörds"
    assert web_allowed.requests[0].query == {"about": ["Paris"]}


def test_a_form_body_gets_its_placeholders_url_encoded(alice, web_allowed):
    run = execute(
        alice,
        request_graph("a&b c", method="POST", url=web_allowed.url(), bodyType="form", body="q={{city}}&n=2"),
    )

    assert run.status == RunStatus.SUCCEEDED
    (seen,) = web_allowed.requests
    assert seen.body == b"q=a%26b+c&n=2"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("status", [404, 503])
def test_an_error_status_fails_the_node_by_default(alice, web_allowed, status):
    run = execute(alice, request_graph(url=web_allowed.url(f"/status/{status}?c={{{{city}}}}")))

    assert run.status == RunStatus.FAILED
    failed = result(run)
    assert (failed.status, failed.error_kind) == (NodeStatus.FAILED, "http_status")
    assert str(status) in failed.error_message


@pytest.mark.parametrize("status", [404, 503])
def test_an_error_status_is_output_when_the_node_does_not_fail_on_it(alice, web_allowed, status):
    run = execute(
        alice, request_graph(url=web_allowed.url(f"/status/{status}?c={{{{city}}}}"), failOnStatus=False)
    )

    assert run.status == RunStatus.SUCCEEDED
    assert result(run).output["status"] == status
    assert result(run).output["body"] == {"status": status}


def test_loopback_is_refused_unless_http_allowed_networks_lists_it(alice, echo_server):
    run = execute(alice, request_graph(url=echo_server.url("/echo?c={{city}}")))

    failed = result(run)
    assert failed.error_kind == "http_refused"
    assert failed.error_message == "The URL could not be fetched: its host is unknown or not allowed."
    assert echo_server.requests == []


@pytest.mark.parametrize(
    "private", ["http://127.0.0.2/", "http://10.0.0.1/", "http://169.254.169.254/latest/"]
)
def test_a_redirect_to_a_private_address_is_refused(alice, web_allowed, private):
    url = web_allowed.url(f"/redirect/302?to={private}{{{{city}}}}")

    run = execute(alice, request_graph(url=url))

    assert result(run).error_kind == "http_refused"
    assert [seen.path for seen in web_allowed.requests] == ["/redirect/302"]


def test_a_redirect_within_the_allowed_network_is_followed_on_any_port(alice, web_allowed):
    target = web_allowed.url("/echo/{{city}}")

    run = execute(alice, request_graph(method="PUT", url=web_allowed.url(f"/redirect/307?to={target}")))

    assert run.status == RunStatus.SUCCEEDED
    assert [(seen.method, seen.path) for seen in web_allowed.requests] == [
        ("PUT", "/redirect/307"),
        ("PUT", "/echo/Paris"),
    ]


def test_a_slow_server_is_cut_at_the_node_timeout(alice, web_allowed):
    run = execute(alice, request_graph(url=web_allowed.url("/slow?c={{city}}"), timeoutSeconds=1))

    failed = result(run)
    assert (failed.error_kind, failed.error_message) == ("http_timeout", "The server did not answer in time.")


def test_a_body_over_the_node_output_limit_is_cut(alice, web_allowed, settings):
    settings.RUN_MAX_NODE_OUTPUT_BYTES = 50_000

    run = execute(alice, request_graph(url=web_allowed.url("/huge?bytes=5000000&c={{city}}")))

    failed = result(run)
    assert failed.error_kind == "output_limit"
    assert "larger than the limit of 50,000 bytes" in failed.error_message


@pytest.mark.parametrize(
    ("method", "cacheable", "requests_made"),
    [("GET", True, 1), ("HEAD", True, 1), ("GET", False, 2), ("POST", True, 2), ("DELETE", True, 2)],
)
def test_under_auto_reuse_only_a_cacheable_get_or_head_is_answered_from_an_earlier_run(
    alice, web_allowed, method, cacheable, requests_made
):
    same = request_graph(method=method, url=web_allowed.url("/echo/{{city}}"), cacheable=cacheable)

    execute(alice, same)
    second = execute(alice, same)

    assert second.status == RunStatus.SUCCEEDED
    assert len(web_allowed.requests) == requests_made
    expected = NodeStatus.REUSED if requests_made == 1 else NodeStatus.SUCCEEDED
    assert result(second).status == expected


def test_a_failing_request_retried_then_handled_by_its_error_branch_lets_the_run_succeed(alice, web_allowed):
    failing = graph(
        [
            node(
                "h",
                "http",
                url=web_allowed.url("/status/503"),
                onError="branch",
                retry={"maxAttempts": 2, "backoffSeconds": 0},
            ),
            node("answer", "debug"),
            node("apology", "debug"),
        ],
        [edge("h", "answer", "body", "value"), edge("h", "apology", "error", "value")],
    )

    run = execute(alice, failing)

    assert run.status == RunStatus.SUCCEEDED
    assert len(web_allowed.requests) == 2  # the retry asked again
    h = result(run)
    assert (h.status, h.handled, h.node_attempts, h.error_kind) == ("failed", True, 2, "http_status")
    assert result(run, "answer").error_kind == "branch_not_taken"
    error = result(run, "apology").output["value"]
    assert (error["kind"], error["node"]) == ("http_status", "h")
    assert "HTTP 503" in error["message"]


def test_a_request_that_continues_on_error_hands_its_error_value_on(alice, web_allowed):
    continuing = graph(
        [
            node("h", "http", url=web_allowed.url("/status/500"), onError="continue", errorValue={"t": 0}),
            node("show", "debug"),
        ],
        [edge("h", "show", "body", "value")],
    )

    run = execute(alice, continuing)

    assert run.status == RunStatus.SUCCEEDED
    assert (result(run).handled, result(run, "show").output["value"]) == (True, {"t": 0})
