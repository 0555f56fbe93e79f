"""HTTP Request: a request built from templates whose `{{name}}` placeholders are input ports, made through
`context.web` (the app's SSRF-safe fetcher).

What fills a placeholder goes in as text (a JSON input as its JSON text), except that in the URL, characters a
URL cannot hold are percent-encoded, and in a form body everything is (the form template is already encoded).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit, urlunsplit

from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, OutputTooLarge, register
from engine.kinds.prompt import as_text, invalid_placeholders
from engine.kinds.rules import PLACEHOLDER
from engine.ports import Port
from engine.web import WebError, WebRequest, WebResponse

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_TYPES = ("none", "text", "json", "form")
# What a node may reuse under `reuse: auto` when it says it is cacheable: methods that change nothing.
SAFE_METHODS = frozenset({"GET", "HEAD"})
REDACTED = "[redacted]"
_CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
}
# Headers that frame the request: the client sets them, a node may not.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TEMPLATES = ("url", "query", "headers", "body")
_ROW_FIELDS = ("query", "headers")


def _rows(title: str, row_title: str) -> dict[str, Any]:
    return {
        "type": "array",
        "title": title,
        "default": [],
        # One name/value pair per row; `check` validates them.
        "items": {
            "type": "object",
            "title": row_title,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "title": "Name"},
                "value": {"type": "string", "title": "Value"},
            },
        },
    }


@register
class HttpRequestKind(NodeKind):
    type = "http"
    times_itself = True
    label = "HTTP Request"
    description = "Calls a URL; each {{name}} in its URL, query, headers or body is an input port."
    palette_group = "Tools"
    palette_order = 105
    icon = "↗"
    summary = {
        "choose": [
            {"when": {"field": "url", "notEmpty": True}, "text": "{method} {url}"},
            {"text": "No URL yet"},
        ]
    }
    # One required text input per placeholder of the URL, the query and header rows, and the body.
    inputs_from = {"placeholders": list(_TEMPLATES), "type": "text", "required": True}
    outputs = (Port("response", "json"), Port("body", "any"), Port("status", "json"))
    data_schema = {
        "type": "object",
        "properties": {
            "method": {"type": "string", "title": "Method", "enum": list(METHODS), "default": "GET"},
            "url": {"type": "string", "title": "URL", "default": ""},
            "query": _rows("Query parameters", "Parameter"),
            "headers": _rows("Headers", "Header"),
            "auth": {
                "type": ["string", "null"],
                "title": "Auth connection",
                "default": None,
                "maxLength": 50,
                "description": "The slug of an HTTP connection: its header and secret are added when the "
                "request is made, and never stored with the node or its run.",
            },
            "bodyType": {"type": "string", "title": "Body", "enum": list(BODY_TYPES), "default": "none"},
            "body": {
                "type": "string",
                "title": "Body template",
                "default": "",
                "multiline": True,
                "description": "form: name=value pairs joined by &, placeholders filled URL-encoded.",
            },
            "timeoutSeconds": {
                "type": "number",
                "title": "Timeout (seconds)",
                "minimum": 1,
                "maximum": 300,
                "default": 30,
            },
            "failOnStatus": {
                "type": "boolean",
                "title": "Fail on HTTP errors",
                "default": True,
                "description": "A status of 400 or more fails the node.",
            },
            "cacheable": {
                "type": "boolean",
                "title": "Reuse earlier answers",
                "default": False,
                "description": "GET and HEAD only: reuse an earlier answer to the same request.",
            },
        },
    }

    def reusable(self, data: Mapping[str, Any]) -> bool:
        # A request may change the world, or its answer may: only a node that says a GET or HEAD may be
        # answered from an earlier result is.
        return data.get("cacheable") is True and data.get("method") in SAFE_METHODS

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        url = data.get("url")
        if isinstance(url, str) and not url.strip():
            problems.append(("url", "give the URL to call"))
        for name in ("url", "body"):
            text = data.get(name)
            if isinstance(text, str):
                problems += [(name, _placeholder_problem(bad)) for bad in invalid_placeholders(text)]
        for name in _ROW_FIELDS:
            problems += _row_problems(name, data.get(name))
        body = data.get("body")
        if data.get("bodyType") == "json" and isinstance(body, str) and not PLACEHOLDER.search(body):
            try:
                json.loads(body)
            except ValueError as exc:
                problems.append(("body", f"is not valid JSON: {exc}"))
        return problems

    def run(self, call: NodeCall) -> NodeOutput:
        if call.context.web is None:
            raise NodeError("configuration", "no web client is configured for this run")
        data = call.data
        texts = {name: as_text(value) for name, value in call.inputs.items()}
        method: str = data["method"]
        url = _with_query(
            _fill(data["url"], texts, _url_safe), [_filled_row(row, texts) for row in data["query"]]
        )
        headers = [_filled_row(row, texts) for row in data["headers"]]
        body = _body(data["bodyType"], data["body"], texts)
        if body is not None and not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", _CONTENT_TYPES[data["bodyType"]]))
        request = WebRequest(
            method=method,
            url=url,
            headers=tuple(headers),
            body=body,
            timeout_s=float(data["timeoutSeconds"]),
            max_bytes=call.max_output_bytes,
            auth=data["auth"] or None,
        )
        try:
            response = call.context.web.send(request)
        except WebError as exc:
            if exc.kind == "output_limit":
                raise OutputTooLarge(exc.message) from exc
            raise NodeError(exc.kind, exc.message) from exc
        call.log("info", f"{method} {_loggable(url)} answered HTTP {response.status}")
        if data["failOnStatus"] and response.status >= 400:
            raise NodeError("http_status", f"the server answered HTTP {response.status}")
        answer = _redacted(
            {"status": response.status, "headers": dict(response.headers), "body": _decoded(response)},
            response.secrets,
        )
        return NodeOutput({"response": answer, "body": answer["body"], "status": response.status})


def _placeholder_problem(bad: str) -> str:
    return f"unknown placeholder {bad}: names are letters, digits and _, like {{{{city}}}}"


def _row_problems(field: str, rows: Any) -> list[tuple[str, str]]:
    if not isinstance(rows, list):
        return []  # the data schema has said so
    problems: list[tuple[str, str]] = []
    for index, row in enumerate(rows):
        at = f"{field}[{index}]"
        if not isinstance(row, Mapping):
            problems.append((at, "must be an object with a name and a value"))
            continue
        name, value = row.get("name"), row.get("value", "")
        if not isinstance(name, str) or not name.strip():
            problems.append((f"{at}.name", "give a name"))
        elif field == "headers" and not PLACEHOLDER.search(name):
            if not _HEADER_NAME.fullmatch(name.strip()):
                problems.append((f"{at}.name", "is not a valid header name"))
            elif name.strip().lower() in _FRAMING_HEADERS:
                problems.append((f"{at}.name", f"{name.strip()} is set by Weft itself"))
        if not isinstance(value, str):
            problems.append((f"{at}.value", "must be text"))
        for text, where in ((name, "name"), (value, "value")):
            if isinstance(text, str):
                problems += [
                    (f"{at}.{where}", _placeholder_problem(bad)) for bad in invalid_placeholders(text)
                ]
    return problems


def _fill(template: str, texts: Mapping[str, str], encode: Callable[[str], str] = str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return encode(texts[name]) if name in texts else match.group(0)

    return PLACEHOLDER.sub(fill, template)


def _url_safe(text: str) -> str:
    """What fills a URL placeholder, with what a URL cannot hold (spaces, line breaks, non-ASCII) encoded; the
    characters that give a URL its shape are kept, so a placeholder may fill a whole URL."""
    return quote(text, safe=":/?#[]@!$&'()*+,;=%~")


def _filled_row(row: Mapping[str, Any], texts: Mapping[str, str]) -> tuple[str, str]:
    return _fill(str(row["name"]), texts).strip(), _fill(as_text(row.get("value", "")), texts)


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return url
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(pairs)) if part)
    return urlunsplit(parts._replace(query=query))


def _body(body_type: str, template: str, texts: Mapping[str, str]) -> bytes | None:
    if body_type == "none":
        return None
    if body_type == "form":
        # The template is the encoded form itself (`q={{query}}&page=2`): what fills it is encoded.
        return _fill(template, texts, quote_plus).encode("utf-8")
    text = _fill(template, texts)
    if body_type == "json":
        try:
            json.loads(text)
        except ValueError as exc:
            raise NodeError("invalid_input", f"the body is not valid JSON once filled in: {exc}") from exc
    return text.encode("utf-8")


def _decoded(response: WebResponse) -> Any:
    """The body as JSON when the response says it is JSON (and it parses), else as text."""
    media_type, _, params = response.headers.get("content-type", "").partition(";")
    media_type = media_type.strip().lower()
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    text = response.body.decode(charset, errors="replace")
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _redacted(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` with every secret replaced wherever it appears in a text (keys included)."""
    known = sorted((secret for secret in secrets if secret), key=len, reverse=True)
    if not known:
        return value

    def scrub(item: Any) -> Any:
        if isinstance(item, str):
            for secret in known:
                item = item.replace(secret, REDACTED)
            return item
        if isinstance(item, list):
            return [scrub(element) for element in item]
        if isinstance(item, dict):
            return {scrub(key): scrub(element) for key, element in item.items()}
        return item

    return scrub(value)


def _loggable(url: str) -> str:
    """`url` as the run's log shows it: without the query, which may carry what the user would not log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
