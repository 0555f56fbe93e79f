"""Migrations 0002-0004 replace each stored webhook token by its SHA-256 digest; the URL keeps working."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.graphs import callable_graph
from workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("triggers", "0001_webhooks_and_schedules")]
AFTER = [("triggers", "0004_remove_webhook_token")]
LEGACY_TOKEN = "LegacyTokenStoredInClear-0123456789abcdefghij"


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.fixture
def legacy_webhook_id(alice) -> Iterator[str]:
    """A webhook stored as before 0002 (token in clear); the schema is put back whatever the test does."""
    workflow = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    executor = _migrate(BEFORE)
    Webhook = executor.loader.project_state(BEFORE).apps.get_model("triggers", "Webhook")
    webhook = Webhook.objects.create(
        owner_id=alice.pk, workflow_id=workflow.pk, token=LEGACY_TOKEN, signing_secret="s" * 64
    )
    try:
        yield str(webhook.pk)
    finally:
        _migrate(AFTER)


def test_the_migration_digests_stored_tokens_and_the_old_url_still_works(legacy_webhook_id, anon_client):
    _migrate(AFTER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM triggers_webhook")
        stored = repr(cursor.fetchall())
    assert LEGACY_TOKEN not in stored
    assert hashlib.sha256(LEGACY_TOKEN.encode()).hexdigest() in stored
    assert "s" * 64 in stored  # the signing secret stays: checking a signature needs it
    unsigned_call = anon_client.post(f"/hooks/{LEGACY_TOKEN}", {"topic": "x"}, format="json")
    assert unsigned_call.status_code == 401  # found by its digest, then refused for lack of a signature
