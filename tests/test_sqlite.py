"""The SQLite path (`make run`, and `make test` without DATABASE_URL) waits for locks instead of failing."""

from __future__ import annotations

import sys
import threading

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from accounts.models import User
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path only: PostgreSQL waits for row locks by design")


def test_the_test_database_is_a_wal_file_with_the_servers_busy_timeout():
    with connection.cursor() as cursor:
        journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        busy_timeout_ms = cursor.execute("PRAGMA busy_timeout").fetchone()[0]

    assert not connection.is_in_memory_db()
    assert journal_mode == "wal"
    assert busy_timeout_ms == settings.DATABASES["default"]["OPTIONS"]["timeout"] * 1000


def _inside_an_update(thread: threading.Thread) -> bool:
    """Whether the thread is executing an UPDATE (behind another connection's write: waiting in SQLite's
    busy handler)."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "execute" and code.co_filename.endswith("sqlite3/base.py"):
            return str(frame.f_locals.get("query", "")).startswith("UPDATE")
        frame = frame.f_back
    return False


def test_a_write_waits_for_another_connections_write_instead_of_failing(alice):
    """What a worker thread and a request do at once: the second writer waits for the first to commit."""
    events: list[str] = []

    def write_second() -> None:
        try:
            User.objects.filter(pk=alice.pk).update(last_name="second")
            events.append("second written")
        finally:
            connections.close_all()

    second = threading.Thread(target=write_second)
    with transaction.atomic():
        User.objects.filter(pk=alice.pk).update(first_name="first")
        second.start()
        wait_for(lambda: _inside_an_update(second), timeout=30, interval=0.01)
        events.append("first committed")
    second.join(30)

    assert events == ["first committed", "second written"]
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("first", "second")
