"""Secrets at rest: MultiFernet under WEFT_ENCRYPTION_KEYS, rotation, start-up rules, admin, logs, a dump."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db_connection

from connections import crypto
from connections.models import Connection
from connections.services import connection_create
from tests.connections.helpers import HEADER_SECRET, SECRET, create_on_fake
from tests.factories import UserFactory
from tests.fakes.llm_server import FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _stored(alice) -> Connection:
    return connection_create(
        owner=alice, name="Mine", slug="mine", kind="openai", secret=SECRET, headers={"X-Team": HEADER_SECRET}
    )


@pytest.mark.django_db
def test_rotation_re_encrypts_under_the_first_key_and_old_rows_decrypt_meanwhile(alice, settings, capsys):
    settings.WEFT_ENCRYPTION_KEYS = [OLD_KEY]
    stored = _stored(alice)
    before = Connection.objects.get(pk=stored.pk).secret_encrypted

    settings.WEFT_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # a new key first; the old one still decrypts
    assert Connection.objects.get(pk=stored.pk).secret == SECRET
    call_command("rotate_encryption_keys")

    settings.WEFT_ENCRYPTION_KEYS = [NEW_KEY]  # the old key removed
    rotated = Connection.objects.get(pk=stored.pk)
    assert rotated.secret_encrypted != before
    assert (rotated.secret, rotated.extra_headers) == (SECRET, {"X-Team": HEADER_SECRET})
    assert "Re-encrypted 1 connection(s)" in capsys.readouterr().out
    settings.WEFT_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(crypto.SecretUnreadable):
        _ = Connection.objects.get(pk=stored.pk).secret


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEFT_ENCRYPTION"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | {"DJANGO_SETTINGS_MODULE": "workflowsite.settings"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_encryption_keys_naming_the_setting():
    result = _manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="a-production-secret-" + "x" * 40)

    assert result.returncode != 0
    assert "WEFT_ENCRYPTION_KEYS" in result.stderr


def test_debug_derives_a_key_with_a_warning_and_a_bad_key_is_an_error_naming_only_its_position():
    derived = _manage("check", DJANGO_DEBUG="true")
    bad = _manage("check", DJANGO_DEBUG="true", WEFT_ENCRYPTION_KEYS=f"{NEW_KEY},not-a-key-s3cr3t")

    assert derived.returncode == 0
    assert "connections.W001" in derived.stderr + derived.stdout
    assert bad.returncode != 0
    assert "key 2 of 2 is not a Fernet key" in bad.stderr
    assert "not-a-key-s3cr3t" not in bad.stderr + bad.stdout


@pytest.mark.django_db
def test_the_admin_shows_the_last_four_characters_only(client, alice):
    stored = _stored(alice)
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))

    pages = [
        client.get("/admin/connections/connection/"),
        client.get(f"/admin/connections/connection/{stored.pk}/change/"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "…7f3a" in page.content.decode()
        assert SECRET not in page.content.decode()
        assert HEADER_SECRET not in page.content.decode()


@pytest.mark.django_db
def test_an_operator_adds_a_site_connection_in_the_admin(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/connections/connection/add/",
        {
            "name": "Ollama",
            "slug": "ollama",
            "kind": "openai",
            "base_url": "http://ollama:11434/v1",
            "header_name": "Authorization",
            "local": "on",
            "new_secret": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    site = Connection.objects.get(slug="ollama")
    assert (site.owner, site.local, site.secret) == (None, True, "")


@pytest.mark.django_db
def test_no_secret_reaches_the_logs(alice_client, fake_llm: FakeLLMServer, settings, caplog):
    settings.PROVIDER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    caplog.set_level(logging.DEBUG)
    url = f"/api/connections/{create_on_fake(alice_client, fake_llm)['id']}"
    fake_llm.fail_next("openai", status=401)
    alice_client.post(f"{url}/test")
    alice_client.get(f"{url}/models")
    alice_client.post(
        "/api/connections",
        {"name": "x", "slug": "x", "kind": "openai", "secret": SECRET, "baseUrl": "http://127.0.0.2/v1"},
        format="json",
    )

    assert SECRET not in caplog.text
    assert HEADER_SECRET not in caplog.text


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_dump_holds_no_secret_in_clear(alice):
    if db_connection.vendor != "postgresql" or shutil.which("pg_dump") is None:
        pytest.skip("needs PostgreSQL and pg_dump")
    _stored(alice)
    settings_dict = db_connection.settings_dict

    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            settings_dict["HOST"] or "127.0.0.1",
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout

    assert "connections_connection" in dump
    assert SECRET not in dump
    assert HEADER_SECRET not in dump
