"""Email-only accounts: sign-up and log-in pages, the user model, createsuperuser from the environment."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_up_creates_an_account_and_logs_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Carol@Example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email__iexact="carol@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_log_in_with_email_and_password(client, alice):
    response = client.post("/accounts/login/", {"login": "alice@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_log_in_with_a_wrong_password_stays_anonymous(client, alice):
    response = client.post("/accounts/login/", {"login": "alice@example.com", "password": "wrong"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email(client, alice, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})

    assert response.status_code == 302
    assert mailoutbox[0].to == ["alice@example.com"]


def test_email_is_unique_and_the_login_name():
    user = User.objects.create_user("dave@example.com", "pw-12345678")

    assert User.USERNAME_FIELD == "email"
    assert user.get_full_name() == "dave@example.com"
    assert str(user) == "dave@example.com"
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", "pw")


def test_createsuperuser_noinput_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-pass-123456")

    call_command("createsuperuser", "--noinput", verbosity=0)

    admin = User.objects.get(email="root@example.com")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("root-pass-123456")
