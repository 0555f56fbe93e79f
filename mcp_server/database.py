"""Database work of the MCP handlers, which run outside Django's request cycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
T = TypeVar("T")


def database_sync_to_async(function: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`function` run in a thread as a Django request would be: no request_started/finished signal closes
    its connections here, so it does (with DATABASE_POOL that gives the connection back to the pool)."""

    @wraps(function)
    def within_connections(*args: P.args, **kwargs: P.kwargs) -> T:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(within_connections)
