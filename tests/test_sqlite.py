"""The SQLite path (`make run`, and `make test` without DATABASE_URL) waits for locks instead of failing."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from accounts.models import User

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


def test_a_write_waits_for_another_connections_write_instead_of_failing(alice):
    """What a worker thread and a request do at once: the second writer waits for the first to commit."""
    events: list[str] = []
    holding = threading.Event()

    def hold_the_write_lock() -> None:
        try:
            with transaction.atomic():
                User.objects.filter(pk=alice.pk).update(first_name="first")
                holding.set()
                time.sleep(0.5)  # long enough for the other write to arrive and have to wait
                events.append("first committed")
        finally:
            connections.close_all()

    first = threading.Thread(target=hold_the_write_lock)
    first.start()
    assert holding.wait(30)
    User.objects.filter(pk=alice.pk).update(last_name="second")
    events.append("second written")
    first.join()

    assert events == ["first committed", "second written"]
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("first", "second")
