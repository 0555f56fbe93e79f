"""ASGI entry point: what gunicorn's uvicorn workers (production) and uvicorn (`make run`) serve: Django, and
the MCP server at /mcp (mcp_server.asgi), whose sessions live as long as the server's lifespan.

Django's ASGI handler runs a sync view's middleware chain in async mode, where each of Django's own
middlewares moves to a thread and back for its request and response halves: a dozen thread hand-offs for a
cached GET, about three times the CPU of the same request under WSGI (bench/README.md, `bench.api`). So a
request for a sync view (every page and API endpoint but the live event stream) goes to the WSGI handler in
one hand-off to a bounded thread pool (a2wsgi, WEB_THREADS threads); only async views (the event stream) stay
on the event loop through Django's ASGI handler.

Under ASGI the database connections come from a pool (DATABASE_POOL, on here unless set to false).
uvicorn writes its own access log, not gunicorn's (whose logger redacts query strings, see
gunicorn.conf.py), so its lines get the same redaction here.
"""

import functools
import logging
import os
from inspect import iscoroutinefunction

from a2wsgi import WSGIMiddleware
from asgiref.typing import ASGIApplication
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from core.tracing import tracing_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.settings")
# Web processes borrow database connections from a bounded pool (settings.py, "Database" says why).
os.environ.setdefault("DATABASE_POOL", "true")
# Before the application loads its middleware: the Django instrumentation adds its own (core/tracing.py).
tracing_setup()

async_django = get_asgi_application()

from django.conf import settings  # noqa: E402  (after the settings module is chosen)
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver  # noqa: E402

from core.access_log import RedactingUvicornAccessFilter  # noqa: E402  (needs settings)
from mcp_server.asgi import McpRouter, mcp_application  # noqa: E402  (needs settings)


class DjangoRouter:
    """Async views to Django's ASGI handler, everything else (unknown paths too) to its WSGI handler."""

    def __init__(self, *, async_django: ASGIApplication, sync_django: ASGIApplication) -> None:
        self.async_django = async_django
        self.sync_django = sync_django

    async def __call__(self, scope, receive, send) -> None:
        handler = self.async_django if _is_async_view(scope.get("path", "")) else self.sync_django
        await handler(scope, receive, send)


def _is_async_view(path: str) -> bool:
    # Django resolves the path again to serve it: here only against the async views' routes, a handful of
    # patterns instead of the whole URL map.
    routes = _async_routes(get_resolver())
    if routes is None:
        return False
    try:
        routes.resolve(path)
    except Resolver404:
        return False
    return True


@functools.lru_cache(maxsize=4)  # per URL map: tests switch ROOT_URLCONF, which builds a new resolver
def _async_routes(resolver: URLResolver) -> URLResolver | None:
    """The URL map pruned to its async views (same prefixes and patterns), or None without any."""
    kept: list[URLPattern | URLResolver] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            pruned = _async_routes(entry)
            if pruned is not None:
                kept.append(pruned)
        elif iscoroutinefunction(entry.callback):
            kept.append(entry)
    if not kept:
        return None
    return URLResolver(resolver.pattern, kept, resolver.default_kwargs, resolver.app_name, resolver.namespace)


django_application = DjangoRouter(
    async_django=async_django,
    sync_django=WSGIMiddleware(get_wsgi_application(), workers=settings.WEB_THREADS),
)
application = McpRouter(django=django_application, mcp=mcp_application())

logging.getLogger("uvicorn.access").addFilter(RedactingUvicornAccessFilter())
