"""The email lookup key drops the local part's combining marks: `admİn@` (U+0130, which case-folds to
i + U+0307) is `admin@`.

Migration 0003 recomputes the keys of existing accounts without merging any: an account whose new key is
taken keeps its old one and is reported, by the migration and by `email_lookalikes`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.emails import email_lookup_key
from accounts.models import User
from tests.factories import UserFactory

DOTTED_CAPITAL_I = "adm\u0130n@example.com"
# What the key of DOTTED_CAPITAL_I was before: NFKC and case folding keep the combining dot.
OLD_DOTTED_KEY = "admi\u0307n@example.com"
SIGNUP_PASSWORD = "a-long-passphrase-42"


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        (DOTTED_CAPITAL_I, "admin@example.com"),
        ("admi\u0307n@example.com", "admin@example.com"),
        ("jos\u00e9@example.com", "jose@example.com"),
        ("jose\u0301@example.com", "jose@example.com"),
        ("Stra\u00dfe@B\u00fccher.DE", "strasse@xn--bcher-kva.de"),
    ],
)
def test_the_key_drops_combining_marks_of_the_local_part(spelling, key):
    assert email_lookup_key(spelling) == key


def test_the_domain_keeps_its_marks_as_an_ascii_label_that_reads_as_nothing_else():
    key = email_lookup_key("alice@ex\u0130mple.com")

    assert key.startswith("alice@xn--")
    assert key.isascii()


@pytest.mark.django_db
def test_a_dotted_capital_i_signup_is_refused_and_finds_the_real_account(client):
    admin = UserFactory(email="admin@example.com")

    response = client.post(
        "/accounts/signup/",
        {"email": DOTTED_CAPITAL_I, "password1": SIGNUP_PASSWORD, "password2": SIGNUP_PASSWORD},
    )

    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert list(User.objects.all()) == [admin]
    assert User.objects.get_by_natural_key(DOTTED_CAPITAL_I) == admin


def _migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("accounts", target)])


@pytest.fixture
def schema_put_back() -> Iterator[None]:
    """The accounts tables as the latest migration makes them again after the test, whatever it migrated."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("accounts"))


def _with_old_key(email: str, old_key: str) -> User:
    """An account as migration 0002 keyed it."""
    user = UserFactory(email=email)
    User.objects.filter(pk=user.pk).update(email_key=old_key)
    return user


@pytest.mark.django_db(transaction=True)
def test_migration_0003_rekeys_accounts_and_leaves_and_reports_the_lookalike(capsys, schema_put_back):
    lookalike = _with_old_key(DOTTED_CAPITAL_I, OLD_DOTTED_KEY)
    accented = _with_old_key("jos\u00e9@example.com", "jos\u00e9@example.com")
    admin = UserFactory(email="admin@example.com")
    _migrate("0002_user_email_key")

    _migrate("0003_email_key_without_marks")

    printed = capsys.readouterr().out
    keys = dict(User.objects.values_list("pk", "email_key"))
    assert keys == {
        admin.pk: "admin@example.com",
        accented.pk: "jose@example.com",
        lookalike.pk: OLD_DOTTED_KEY,
    }
    assert f"id {admin.pk} 'admin@example.com'" in printed
    assert f"id {lookalike.pk} {DOTTED_CAPITAL_I!r}" in printed
    assert "jos" not in printed
    with pytest.raises(CommandError, match=f"id {lookalike.pk}") as reported:
        call_command("email_lookalikes")
    assert f"id {admin.pk}" in str(reported.value)


@pytest.mark.django_db(transaction=True)
def test_migration_0003_moves_a_key_freed_by_another_move(schema_put_back):
    # The first account (by id) wants the key the second one holds until it moves.
    first = _with_old_key("jos\u00e9@example.com", "jos\u00e9@example.com")
    second = _with_old_key("other@example.com", "stale")
    User.objects.filter(pk=first.pk).update(email_key="holding")
    User.objects.filter(pk=second.pk).update(email_key="jose@example.com")
    _migrate("0002_user_email_key")

    _migrate("0003_email_key_without_marks")

    keys = dict(User.objects.values_list("pk", "email_key"))
    assert keys == {first.pk: "jose@example.com", second.pk: "other@example.com"}
