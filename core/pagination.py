"""The one pagination of every list in the API: `?page=&limit=`, newest first by the caller's ordering.

- `page`: a whole number from 1 (default 1); `limit`: a whole number from 1 to 100 (default 20). Anything
  else is a 400 in the API's error shape, with the path `page` or `limit`.
- A page past the last is a 404; the first page of an empty list is an empty page.
- The answer is `{count, next, previous, results}`, with `next` and `previous` built for the host the
  client used (never cached with the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api import bad_request

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Keeps the row offset ((page - 1) * limit) far inside the database's 64-bit range.
MAX_PAGE = 2**31 - 1


class PageQuerySerializer(serializers.Serializer):
    """The query parameters of every list; documented once, listed by each list operation."""

    page = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE,
        default=1,
        help_text="1-based page number; a page past the last one is a 404.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="Items per page, 1 to 100."
    )


class PageSerializer(serializers.Serializer):
    """A page of a list; each list's serializer adds its `results`."""

    count = serializers.IntegerField(help_text="Items in the whole list.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


# The answers every list operation documents besides its 200.
PAGE_ERRORS = {
    400: bad_request("`page` or `limit` is not a whole number in range (or a filter is invalid)."),
    404: OpenApiResponse(description="A page past the last one."),
}


@dataclass(frozen=True)
class Page:
    number: int
    limit: int

    @classmethod
    def from_request(
        cls, request: Request, query_serializer: type[PageQuerySerializer] = PageQuerySerializer
    ) -> tuple[Page, dict[str, Any]]:
        """The page the client asked for and the list's other (filter) parameters, read with
        `query_serializer` (a PageQuerySerializer with the filters added); bad values are a 400."""
        query = query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        return cls(number=filters.pop("page"), limit=filters.pop("limit")), filters

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.limit

    def is_past_the_end(self, count: int) -> bool:
        return self.number > 1 and self.offset >= count

    def payload(
        self, queryset: QuerySet[Any], serializer_class: type[serializers.BaseSerializer], **context: Any
    ) -> dict[str, Any]:
        """`{"count", "results"}`: the list's size and this page's rows serialized as plain dicts (so the
        payload can be cached). Two queries, one when the page is past the end."""
        count = queryset.count()
        rows = [] if self.is_past_the_end(count) else queryset[self.offset : self.offset + self.limit]
        data = serializer_class(rows, many=True, context=context).data
        return {"count": count, "results": [dict(item) for item in data]}

    def response(self, request: Request, *, count: int, results: Sequence[Any]) -> Response:
        """The page as the API answers it; a 404 when it is past the last page."""
        if self.is_past_the_end(count):
            raise NotFound("Invalid page.")
        url = request.build_absolute_uri()
        previous = None
        if self.number == 2:
            previous = remove_query_param(url, "page")
        elif self.number > 2:
            previous = replace_query_param(url, "page", self.number - 1)
        has_next = self.offset + self.limit < count
        return Response(
            {
                "count": count,
                "next": replace_query_param(url, "page", self.number + 1) if has_next else None,
                "previous": previous,
                "results": list(results),
            }
        )
