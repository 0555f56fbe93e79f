"""A view mixin for GETs that answer from one owner-cached entry (core.cache): kept apart from core.api,
which imports DRF's views, because token authentication (imported by DRF's settings) needs it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from core.cache import owner_entry_prefetch_scope


class OwnerCachedGetMixin:
    """For a view whose GET answers from one owner-cached entry (core.cache.owner_cached): it names that
    entry, so that token authentication fetches it in the same Redis round trip as the token."""

    def owner_cache_entry_parts(self, **kwargs: Any) -> tuple[object, ...]:
        """The `owner_cache_key` parts of the entry a GET with these URL arguments reads."""
        raise NotImplementedError

    def prefetched_entry_parts(self, request: Request, kwargs: dict[str, Any]) -> tuple[object, ...]:
        return self.owner_cache_entry_parts(**kwargs) if request.method == "GET" else ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with owner_entry_prefetch_scope():
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
