"""Digest the webhook tokens stored in clear; the tokens themselves are dropped by 0004.

The URLs keep working (a call is looked up by digest). Going back is possible only without webhooks: a
digest cannot give its token back.
"""

import hashlib

from django.db import migrations

# As core.logging.HOOK_TOKEN_SHOWN_CHARS at the time of writing.
_PREFIX_CHARS = 4


def digest_tokens(apps, schema_editor):
    Webhook = apps.get_model("triggers", "Webhook")
    for webhook in Webhook.objects.only("pk", "token").iterator():
        Webhook.objects.filter(pk=webhook.pk).update(
            token_digest=hashlib.sha256(webhook.token.encode()).hexdigest(),
            token_prefix=webhook.token[:_PREFIX_CHARS],
        )


def refuse_if_any(apps, schema_editor):
    Webhook = apps.get_model("triggers", "Webhook")
    if Webhook.objects.exists():
        raise RuntimeError(
            "Webhook tokens cannot be restored from their digests: delete the webhooks (or restore a backup"
            " taken before this migration) to migrate back."
        )


class Migration(migrations.Migration):
    dependencies = [("triggers", "0002_webhook_token_digest")]

    operations = [migrations.RunPython(digest_tokens, refuse_if_any, elidable=False)]
