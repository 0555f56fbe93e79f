"""core.mcp_client against an MCP server written with the official SDK on loopback: listing, calling, a
tool's error, a server that hangs (cut at the deadline) and one that answers 100 MB (cut at the byte cap); the
same against a legacy HTTP+SSE server, reached after its 4xx to Streamable HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import engine
from core.mcp_client import mcp_tool_call, mcp_tools_list
from tests.fakes.mcp_servers import outside_mcp_url, outside_sse_url

MB = 1024 * 1024


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with outside_mcp_url() as running:
        yield running


def test_the_servers_tools_are_listed_with_their_schemas_and_annotations(url):
    tools = {tool["name"]: tool for tool in mcp_tools_list(url=url, headers={}, timeout_s=10, max_bytes=MB)}

    assert set(tools) == {"forecast", "broken", "hang", "huge"}
    assert tools["forecast"]["description"] == "The weather for a few days."
    assert tools["forecast"]["inputSchema"]["required"] == ["city"]
    assert tools["forecast"]["annotations"] == {"readOnlyHint": True}


def test_a_call_answers_the_tools_structured_content_and_text(url):
    result = mcp_tool_call(
        url=url,
        headers={},
        tool="forecast",
        arguments={"city": "Oslo", "days": 2},
        timeout_s=10,
        max_bytes=MB,
    )

    assert result.structured == {"city": "Oslo", "days": 2, "sky": "clear"}
    assert result.is_error is False
    assert '"sky": "clear"' in result.text


def test_a_tools_failure_is_a_result_marked_is_error(url):
    result = mcp_tool_call(
        url=url, headers={}, tool="broken", arguments={"city": "Atlantis"}, timeout_s=10, max_bytes=MB
    )

    assert result.is_error is True
    assert result.text


def test_a_server_that_hangs_is_cut_at_the_deadline(url):
    started = time.monotonic()

    with pytest.raises(engine.McpError) as caught:
        mcp_tool_call(url=url, headers={}, tool="hang", arguments={}, timeout_s=1, max_bytes=MB)

    assert caught.value.kind == "mcp_timeout"
    assert caught.value.message == "the MCP server did not answer within 1 s"
    assert time.monotonic() - started < 5


def test_a_100_mb_answer_is_cut_at_the_byte_cap(url):
    with pytest.raises(engine.McpError) as caught:
        mcp_tool_call(url=url, headers={}, tool="huge", arguments={}, timeout_s=60, max_bytes=MB)

    assert caught.value.kind == "output_limit"
    assert caught.value.message == f"the MCP server's answer is over {MB} bytes"


def test_an_unreachable_server_is_refused_without_naming_its_headers():
    with pytest.raises(engine.McpError) as caught:
        mcp_tools_list(
            url="http://127.0.0.1:9/mcp",
            headers={"Authorization": "Bearer s3cret"},
            timeout_s=5,
            max_bytes=MB,
        )

    assert caught.value.kind == "mcp_refused"
    assert "s3cret" not in caught.value.message


@pytest.fixture(scope="module")
def sse_url() -> Iterator[str]:
    with outside_sse_url() as running:
        yield running


def test_a_legacy_sse_server_is_listed_and_called_after_its_4xx_to_streamable_http(sse_url):
    tools = {tool["name"] for tool in mcp_tools_list(url=sse_url, headers={}, timeout_s=10, max_bytes=MB)}
    result = mcp_tool_call(
        url=sse_url, headers={}, tool="forecast", arguments={"city": "Oslo"}, timeout_s=10, max_bytes=MB
    )

    assert tools == {"forecast", "broken", "hang", "huge"}
    assert result.structured == {"city": "Oslo", "days": 1, "sky": "clear"}


def test_a_legacy_sse_servers_tool_error_is_a_result_marked_is_error(sse_url):
    result = mcp_tool_call(
        url=sse_url, headers={}, tool="broken", arguments={"city": "Atlantis"}, timeout_s=10, max_bytes=MB
    )

    assert result.is_error is True
    assert result.text == "Error executing tool broken"


def test_a_legacy_sse_server_that_hangs_is_cut_at_the_deadline(sse_url):
    with pytest.raises(engine.McpError) as caught:
        mcp_tool_call(url=sse_url, headers={}, tool="hang", arguments={}, timeout_s=2, max_bytes=MB)

    assert caught.value.kind == "mcp_timeout"


def test_a_legacy_sse_servers_100_mb_answer_is_cut_at_the_byte_cap(sse_url):
    with pytest.raises(engine.McpError) as caught:
        mcp_tool_call(url=sse_url, headers={}, tool="huge", arguments={}, timeout_s=60, max_bytes=MB)

    assert caught.value.kind == "output_limit"


def test_a_server_refusing_both_transports_is_refused_with_its_status(sse_url):
    missing = sse_url.replace("/sse", "/nowhere")

    with pytest.raises(engine.McpError) as caught:
        mcp_tools_list(url=missing, headers={}, timeout_s=10, max_bytes=MB)

    assert caught.value.kind == "mcp_refused"
    assert caught.value.message == "the MCP server answered HTTP 404"
