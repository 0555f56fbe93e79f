"""Migration 0002 fills User.email_key and refuses, listing them, accounts whose addresses read the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from tests.factories import UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_user_email_key")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("accounts"))


@pytest.fixture
def before_email_key() -> Iterator[None]:
    """The accounts table as it was before 0002; the schema is put back whatever the test does."""
    _migrate(BEFORE)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_user")
        _migrate_to_latest()


def _insert_legacy_user(email: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, created_at, updated_at, email, first_name,"
            " last_name, avatar_url, is_active, is_staff) VALUES ('!', false, now(), now(), %s, '', '', '',"
            " true, false) RETURNING id",
            [email],
        )
        return cursor.fetchone()[0]


def test_the_migration_fills_the_key_of_existing_accounts(before_email_key):
    alice_id = _insert_legacy_user("alice@\uff45xample.com")
    bob_id = _insert_legacy_user("bob@example.com")

    _migrate(AFTER)

    assert User.objects.get(pk=alice_id).email_key == "alice@example.com"
    assert User.objects.get(pk=bob_id).email_key == "bob@example.com"


def test_the_migration_refuses_lookalike_accounts_and_lists_them(before_email_key):
    admin_id = _insert_legacy_user("admin@example.com")
    lookalike_id = _insert_legacy_user("adm\u0131n@example.com")
    _insert_legacy_user("bob@example.com")

    with pytest.raises(Exception, match="read the same") as refused:
        _migrate(AFTER)

    message = str(refused.value)
    assert f"id {admin_id} 'admin@example.com'" in message
    assert f"id {lookalike_id} 'adm\u0131n@example.com'" in message
    assert "bob@" not in message
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        assert cursor.fetchone()[0] == 3


def test_email_lookalikes_command_lists_groups_before_the_migration(before_email_key, capsys):
    _insert_legacy_user("simon@example.com")
    lookalike_id = _insert_legacy_user("\u017fimon@example.com")

    with pytest.raises(CommandError, match=f"id {lookalike_id}"):
        call_command("email_lookalikes")


def test_email_lookalikes_command_reports_none_on_a_clean_database(capsys):
    UserFactory(email="alice@example.com")

    call_command("email_lookalikes")

    assert "No look-alike" in capsys.readouterr().out
