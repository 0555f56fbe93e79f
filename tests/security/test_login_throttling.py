"""Every password login form shares allauth's failed-login limits (issue 18, points 4 and 5).

/accounts/login/, /admin/login/ and /api-auth/login/ count failures in the same buckets: per account
(`5/300s/key`) and per client address (`10/m/ip`), where the address is REMOTE_ADDR, or the right-most
untrusted X-Forwarded-For entry behind ALLAUTH_TRUSTED_PROXY_COUNT proxies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_FORMS = {
    "allauth": ("/accounts/login/", "login"),
    "admin": ("/admin/login/", "username"),
    "drf": ("/api-auth/login/", "username"),
}
PER_ACCOUNT = 5
PER_ADDRESS = 10


@pytest.fixture(autouse=True)
def _documented_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": f"{PER_ADDRESS}/m/ip,{PER_ACCOUNT}/300s/key"}


@pytest.fixture
def staff_alice(db):
    return UserFactory(email="alice@example.com", is_staff=True)


def _log_in(client: Client, form: str, email: str, password: str, **headers: str) -> bool:
    url, field = LOGIN_FORMS[form]
    response = client.post(url, {field: email, "password": password}, **headers)
    assert response.status_code in (200, 302), (form, response.status_code)
    logged_in = "_auth_user_id" in client.session
    client.logout()
    return logged_in


@pytest.mark.parametrize("guessed_on", ["admin", "drf", "allauth"])
def test_failures_on_one_form_lock_the_account_on_every_form(client, staff_alice, guessed_on):
    for _ in range(PER_ACCOUNT):
        assert not _log_in(client, guessed_on, "alice@example.com", "wrong-guess")

    for form in LOGIN_FORMS:
        assert not _log_in(client, form, "alice@example.com", DEFAULT_PASSWORD), form


def test_failures_spread_over_the_forms_count_together(client, staff_alice):
    for form in ["admin", "drf", "allauth", "admin", "drf"]:
        assert not _log_in(client, form, "alice@example.com", "wrong-guess")

    assert not _log_in(client, "allauth", "alice@example.com", DEFAULT_PASSWORD)


def test_the_lock_says_why_on_the_admin_and_drf_forms(client, staff_alice):
    for _ in range(PER_ACCOUNT):
        _log_in(client, "allauth", "alice@example.com", "wrong-guess")

    for form in ["admin", "drf"]:
        url, field = LOGIN_FORMS[form]
        response = client.post(url, {field: "alice@example.com", "password": DEFAULT_PASSWORD})
        assert "Too many failed login attempts" in response.content.decode(), form


def test_lookalike_spellings_share_the_account_count(client, staff_alice):
    spellings = ["ALICE@example.com", "alice@\uff45xample.com", "\uff41lice@example.com", "Alice@Example.COM"]
    for spelling in [*spellings, "alice@example.com"]:
        assert not _log_in(client, "drf", spelling, "wrong-guess")

    assert not _log_in(client, "admin", "alice@example.com", DEFAULT_PASSWORD)


def test_a_successful_login_does_not_count(client, staff_alice):
    for form in [*LOGIN_FORMS, *LOGIN_FORMS]:
        assert _log_in(client, form, "alice@example.com", DEFAULT_PASSWORD), form


def test_failures_against_many_accounts_lock_the_address_on_every_form(client, staff_alice):
    for n in range(PER_ADDRESS):
        form = ["admin", "drf"][n % 2]
        assert not _log_in(client, form, f"victim{n}@example.com", "wrong-guess")

    for form in LOGIN_FORMS:
        assert not _log_in(client, form, "alice@example.com", DEFAULT_PASSWORD), form


def test_directly_connected_clients_are_counted_by_remote_addr_whatever_they_claim(
    client, staff_alice, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for n in range(PER_ADDRESS):
        # A spoofed header must not buy a fresh bucket.
        _log_in(client, "drf", f"victim{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert not _log_in(client, "allauth", "alice@example.com", DEFAULT_PASSWORD, REMOTE_ADDR="127.0.0.1")
    assert _log_in(Client(), "allauth", "alice@example.com", DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.7")


def test_behind_one_proxy_each_client_has_its_own_bucket(client, staff_alice, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(PER_ADDRESS):
        # The attacker prepends made-up addresses; the proxy appends the one it saw, the right-most.
        _log_in(
            client,
            "admin",
            f"victim{n}@example.com",
            "wrong",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.66",
            **proxy,
        )

    locked_out = _log_in(
        client, "allauth", "alice@example.com", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.66", **proxy
    )
    someone_else = _log_in(
        Client(), "allauth", "alice@example.com", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.7", **proxy
    )

    assert not locked_out
    assert someone_else


def test_a_proxy_set_client_address_header_can_name_the_client(client, staff_alice, settings):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(PER_ADDRESS):
        _log_in(client, "drf", f"victim{n}@example.com", "wrong", HTTP_X_REAL_IP="203.0.113.66", **proxy)

    assert not _log_in(
        client, "admin", "alice@example.com", DEFAULT_PASSWORD, HTTP_X_REAL_IP="203.0.113.66", **proxy
    )
    assert _log_in(
        Client(), "admin", "alice@example.com", DEFAULT_PASSWORD, HTTP_X_REAL_IP="192.0.2.7", **proxy
    )


def test_the_admin_form_still_refuses_accounts_without_staff_status(client):
    UserFactory(email="bob@example.com")

    response = client.post("/admin/login/", {"username": "bob@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_proxy_settings_are_read_from_the_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="workflowsite.test_settings",
        TRUSTED_PROXY_COUNT="2",
        TRUSTED_CLIENT_IP_HEADER="X-Real-IP",
        LOGIN_FAILED_RATE_LIMIT="3/m/ip",
    )
    code = (
        "from django.conf import settings as s; "
        "print(s.ALLAUTH_TRUSTED_PROXY_COUNT, s.ALLAUTH_TRUSTED_CLIENT_IP_HEADER, s.ACCOUNT_RATE_LIMITS)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2 X-Real-IP {'login_failed': '3/m/ip'}"


def test_too_few_forwarded_addresses_count_by_the_connecting_address_not_a_500(client, staff_alice, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    for n in range(PER_ADDRESS):
        # Straight to the app, past the proxies: a short header must neither fail nor buy fresh buckets.
        _log_in(client, "drf", f"victim{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert not _log_in(
        client, "allauth", "alice@example.com", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
