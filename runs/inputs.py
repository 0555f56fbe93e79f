"""A run's input values: checked against the workflow's interface and, for images, against the owner's
uploads (URLs are fetched later through the SSRF-safe fetcher by the nodes that read them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

import engine
from accounts.models import User
from uploads.selectors import owned_upload_ids, parse_upload_id
from uploads.services import url_problem


def _unstorable(value: Any) -> bool:
    """Whether PostgreSQL's jsonb would refuse `value`: a NUL character in a string or a key."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_unstorable(key) or _unstorable(inner) for key, inner in value.items())
    if isinstance(value, list):
        return any(_unstorable(inner) for inner in value)
    return False


def inputs_storable_issues(values: Mapping[str, Any]) -> list[engine.ValidationIssue]:
    """`inputs.<name>` issues for values the database cannot store (checked before anything is stored,
    so that such a value is a 400, never a 500 at INSERT time)."""
    return [
        engine.ValidationIssue(f"inputs.{name}", "must not contain NUL characters.")
        for name, value in values.items()
        if _unstorable(name) or _unstorable(value)
    ]


def run_inputs_validate(
    *, owner: User, graph: Mapping[str, Any], values: Mapping[str, Any], require_all: bool = True
) -> dict[str, Any]:
    """The values normalised for `engine.bind_inputs`, or engine.InputsInvalid with `inputs.<name>` paths.

    `require_all=False` (node and selection runs) lets required inputs be missing: the nodes being run
    may not need them, and those that do fail with a clear message.
    """
    if issues := inputs_storable_issues(values):
        raise engine.InputsInvalid(issues)
    interface = engine.graph_interface(graph)
    normalised, problems = engine.check_input_values(
        interface, values, max_text_chars=settings.GRAPH_MAX_TEXT_CHARS, require_all=require_all
    )
    types = {spec.name: spec.type for spec in interface.inputs}
    images = {name: value for name, value in normalised.items() if types[name] == "image"}
    uploads = {name: parse_upload_id(ref["uploadId"]) for name, ref in images.items() if ref["uploadId"]}
    owned = owned_upload_ids(owner=owner, candidates=[u for u in uploads.values() if u])
    for name, upload_id in uploads.items():
        if upload_id not in owned:
            problems.append((f"inputs.{name}", "unknown upload"))
    for name, ref in images.items():
        if ref["url"] and (problem := url_problem(ref["url"])):
            problems.append((f"inputs.{name}", problem))
    if problems:
        raise engine.InputsInvalid([engine.ValidationIssue(path, message) for path, message in problems])
    return normalised
