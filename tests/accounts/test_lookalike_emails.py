"""Look-alike email addresses (issue 18, point 1): one signup must not lock the real owner out of logging in.

PostgreSQL's case-insensitive comparison maps dotless i (U+0131) to I and long s (U+017F) to S,
so these run on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.emails import email_lookup_key
from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

LOOKALIKES = [
    pytest.param("admin@example.com", "adm\u0131n@example.com", id="dotless-i"),
    pytest.param("admin@example.com", "adm\u0130n@example.com", id="dotted-capital-i"),
    pytest.param("simon@example.com", "\u017fimon@example.com", id="long-s"),
    pytest.param("alice@example.com", "alice@\uff45xample.com", id="full-width-e"),
]
SIGNUP_PASSWORD = "a-long-passphrase-42"


@pytest.fixture(autouse=True)
def _on_postgresql(settings) -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", "set DATABASE_URL"


def _sign_up(client, email: str):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": SIGNUP_PASSWORD, "password2": SIGNUP_PASSWORD}
    )


def _logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES)
def test_a_lookalike_signup_is_refused_with_a_form_error(client, real, lookalike):
    owner = UserFactory(email=real)

    response = _sign_up(client, lookalike)

    assert response.status_code == 200
    assert "already exists" in response.content.decode() or "already registered" in response.content.decode()
    assert list(User.objects.values_list("pk", flat=True)) == [owner.pk]
    assert _logged_in_user_id(client) is None


@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES)
def test_the_real_owner_logs_in_on_every_form_after_a_lookalike_signup(client, real, lookalike):
    owner = UserFactory(email=real, is_staff=True)
    _sign_up(client, lookalike)
    client.logout()

    for url, form in [
        ("/accounts/login/", {"login": real, "password": DEFAULT_PASSWORD}),
        ("/admin/login/", {"username": real, "password": DEFAULT_PASSWORD}),
        ("/api-auth/login/", {"username": real, "password": DEFAULT_PASSWORD}),
    ]:
        response = client.post(url, form)

        assert response.status_code == 302, url
        assert _logged_in_user_id(client) == str(owner.pk), url
        client.logout()


@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES)
def test_a_lookalike_spelling_finds_the_one_real_account(real, lookalike):
    owner = UserFactory(email=real)

    assert get_user_model().objects.get_by_natural_key(lookalike) == owner
    assert get_user_model().objects.get_by_natural_key(real.upper()) == owner


def test_the_lookup_key_folds_width_case_and_compatibility_forms_and_encodes_the_domain():
    assert email_lookup_key("adm\u0131n@example.com") == "admin@example.com"
    assert email_lookup_key("\u017fimon@example.com") == "simon@example.com"
    assert email_lookup_key("alice@\uff45xample.com") == "alice@example.com"
    assert email_lookup_key("Stra\u00dfe@B\u00fccher.DE") == "strasse@xn--bcher-kva.de"
    assert email_lookup_key("strasse@xn--bcher-kva.de") == "strasse@xn--bcher-kva.de"


def test_the_database_refuses_a_second_account_with_the_same_key():
    from django.db import IntegrityError, transaction

    UserFactory(email="admin@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("adm\u0131n@example.com", "pw-long-enough-1")


def test_the_admin_add_user_form_refuses_a_lookalike_with_a_field_error(client):
    admin = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    UserFactory(email="simon@example.com")
    client.force_login(admin)

    response = client.post(
        "/admin/accounts/user/add/",
        {"email": "\u017fimon@example.com", "password1": SIGNUP_PASSWORD, "password2": SIGNUP_PASSWORD},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 2


def test_create_api_token_command_finds_the_account_by_its_key(capsys):
    from django.core.management import call_command

    owner = UserFactory(email="alice@example.com")

    call_command("create_api_token", "ALICE@\uff45xample.com")

    assert owner.api_tokens.count() == 1
    assert capsys.readouterr().out.startswith("weft_")
