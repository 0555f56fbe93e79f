"""Security headers on every response under production settings, HSTS over HTTPS, and pages that need no
inline script (so the CSP's `script-src 'self'` costs the editor nothing).

Proven elsewhere: `manage.py check --deploy` with production settings has no warnings (tests/test_site.py
::test_check_deploy_with_production_settings_reports_no_warnings); the editor works in Chromium under this
CSP, the browser fixture failing a test on any console error, which is how Chromium reports a CSP
violation (tests/browser/test_editor.py).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.security.owned import Owned
from tests.security.routes import discover_routes

pytestmark = pytest.mark.django_db

HSTS = "max-age=31536000; includeSubDomains; preload"
ROUTES = discover_routes()


def _urls(owned: Owned) -> list[str]:
    """A GET for every route (those without GET answer 405, which must carry the headers too), plus the
    error answers: unknown API route, unknown page, the admin's and allauth's pages."""
    urls = [
        reverse(route.name, kwargs={k: owned.url_kwargs[k] for k in route.converters}) for route in ROUTES
    ]
    return [*urls, "/api/no-such-route", "/no-such-page/", "/admin/login/", "/accounts/login/"]


def assert_security_headers(response, *, over_https: bool) -> None:
    where = f"{response.request['PATH_INFO']} ({response.status_code})"
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    directives = [part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")]
    policy = {directive[0]: directive[1] if len(directive) > 1 else "" for directive in directives}
    # Either the site policy, or a stricter one that allows no script at all (the upload content view).
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts in {"'self'", "'none'"}, where
    assert "frame-ancestors" in policy or "sandbox" in policy, where
    if over_https:
        assert response["Strict-Transport-Security"] == HSTS, where
    else:
        assert "Strict-Transport-Security" not in response, where


@pytest.mark.parametrize("who", ["alice", "bob", "anonymous"])
def test_every_response_carries_the_security_headers_over_https(
    settings, owned, alice, bob, who, site_worker
):
    assert settings.DEBUG is False  # the test settings are the production settings bar the SSL redirect
    client = APIClient()
    if who != "anonymous":
        client.force_login({"alice": alice, "bob": bob}[who])
    with override_settings(SECURE_SSL_REDIRECT=True):
        for url in _urls(owned):
            response = client.get(url, secure=True)
            assert response.status_code < 500, url
            assert_security_headers(response, over_https=True)


def test_error_answers_carry_the_headers_too(settings, alice_client, owned):
    settings.WEFT_MAX_BODY_BYTES = 10
    responses = [
        alice_client.post(
            "/api/workflows", {"name": "more than ten bytes"}, format="json", secure=True
        ),  # 413
        alice_client.patch(f"/api/workflows/{owned.workflow.pk}", {}, format="json", secure=True),  # 405
        APIClient().get("/api/workflows", secure=True),  # 401
    ]

    assert [response.status_code for response in responses] == [413, 405, 401]
    for response in responses:
        assert_security_headers(response, over_https=True)


def test_plain_http_is_redirected_to_https_except_health(settings, alice_client, owned, site_worker):
    with override_settings(SECURE_SSL_REDIRECT=True):
        redirected = alice_client.get(f"/api/workflows/{owned.workflow.pk}")
        health = APIClient().get("/api/health")

    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
    assert health.status_code == 200  # load balancers probe over plain HTTP
    assert_security_headers(health, over_https=False)


def test_cookies_are_secure_and_the_session_cookie_is_http_only(settings, alice):
    assert (settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE) == (True, True)
    response = APIClient().post(
        "/accounts/login/", {"login": alice.email, "password": "correct-horse-battery-staple"}, secure=True
    )

    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert response.status_code == 302
    assert session["secure"]
    assert session["httponly"]


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.handlers += [f"{tag} {name}" for name in named if name.startswith("on")]
        self.handlers += [
            f"{tag} {name}" for name, value in named.items() if (value or "").startswith("javascript:")
        ]
        # JSON data blocks (json_script) are not executed; anything else without src is inline script.
        self._in_inline = tag == "script" and "src" not in named and named.get("type") != "application/json"

    def handle_data(self, data: str) -> None:
        if self._in_inline and data.strip():
            self.inline.append(data.strip()[:80])

    def handle_endtag(self, tag: str) -> None:
        self._in_inline = False


def test_pages_have_no_inline_script_or_event_handler_attributes(alice_client, owned):
    pages = [route for route in ROUTES if not route.route.startswith("api/") or route.name == "api-docs"]
    urls = [reverse(route.name, kwargs={k: owned.url_kwargs[k] for k in route.converters}) for route in pages]
    checked = 0
    for url in [*urls, "/accounts/login/", "/accounts/signup/"]:
        response = alice_client.get(url, follow=True)
        if "text/html" not in response["Content-Type"]:
            continue
        parser = _Scripts()
        parser.feed(response.content.decode())
        assert (url, parser.inline, parser.handlers) == (url, [], [])
        checked += 1
    assert checked >= 8


def test_the_editor_bootstraps_from_json_data_and_module_files(alice_client, owned):
    html = alice_client.get(f"/workflows/{owned.workflow.pk}/").content.decode()

    data = re.findall(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', html, re.S)
    modules = re.findall(r'<script[^>]*type="module"[^>]*src="([^"]+)"', html)
    assert any(json.loads(block).get("id") == str(owned.workflow.pk) for block in data)
    assert modules
    assert all(src.startswith("/static/") for src in modules)
