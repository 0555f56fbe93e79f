"""Domain errors: what a service refuses, said once with the HTTP status it means, for core.api to answer.

A service raises a subclass of DomainError (or NotFound); no view maps it by hand. The answer is the API's one
error shape: `{detail, errors?}` plus the error's extra fields, with `Retry-After` when it has one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)

# The Retry-After of a full cap (active runs, open event streams): a place frees when something ends, which no
# clock predicts, so this is a polling interval for the client rather than a promise.
CAP_RETRY_AFTER_SECONDS = 5


class DomainError(Exception):
    """A refusal for the person who asked: `http_status` is the HTTP status it means, `code` names it for
    programs.

    `errors` are the problems with their paths (`[{"path", "message"}]`; a 400 without them names the whole
    body), `retry_after` is how many seconds to wait before asking again, and `extra` are more fields of the
    answer (a conflict's `currentVersion`, say).
    """

    http_status: int = 400
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.retry_after = retry_after
        self.extra = extra


class NotFound(DomainError, Http404):
    """No such object of yours: anyone else's is answered exactly as a missing one. An Http404 too, so that a
    page view using a selector answers Django's 404 page."""

    http_status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class RunRefused(DomainError):
    """A refusal to start a run, whoever asked (the editor, the API, a webhook, a schedule): over a limit, an
    unpublished workflow, a reused Idempotency-Key. Webhooks answer it and schedules record it alike."""


def get_or_not_found(queryset: QuerySet[M], *, message: str | None = None, **lookup: Any) -> M:
    """The one object of `queryset` matching `lookup`, or NotFound (by default Django's "No <Model> matches
    the given query.")."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise NotFound(message or f"No {queryset.model._meta.object_name} matches the given query.") from None


def errors_summary(errors: list[dict[str, str]]) -> str:
    """The first problem (and how many more): clients show `detail` alone (a toast), so it names the first
    problem rather than saying "invalid"."""
    if not errors:
        return "The request is invalid."
    first = errors[0]
    text = first["message"] if first["path"] == "body" else f"{first['path']}: {first['message']}"
    more = len(errors) - 1
    return f"{text} (and {more} more problem{'s' if more > 1 else ''})" if more else text
