"""Add User.email_key, filled from each address, unique.

Accounts whose addresses share a key (look-alike spellings: a dotless i or a long s beside the plain letter) are not
merged: the migration stops and lists them, so that an operator decides which account keeps the address.
`python manage.py email_lookalikes` lists the same groups before migrating (see docs/security.md).
"""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from accounts.emails import describe_lookalike_groups, email_lookup_key, lookalike_groups


class LookalikeEmails(Exception):
    pass


def fill_email_keys(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    users = apps.get_model("accounts", "User").objects.using(schema_editor.connection.alias)
    rows = list(users.values_list("pk", "email"))
    groups = lookalike_groups(rows)
    if groups:
        raise LookalikeEmails(describe_lookalike_groups(groups))
    for pk, email in rows:
        users.filter(pk=pk).update(email_key=email_lookup_key(email))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.TextField(
                default="",
                editable=False,
                help_text="The address NFKC-normalised and case-folded: accounts are found by this.",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_email_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(fields=["email_key"], name="user_email_key_unique"),
        ),
    ]
