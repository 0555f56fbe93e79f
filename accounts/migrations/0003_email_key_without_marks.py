"""Recompute User.email_key now that it drops combining marks (`admİn@` and `admin@` share a key).

Accounts are never merged and the migration never stops: an account whose new key another account already
holds keeps its old key, and both are listed here and by `python manage.py email_lookalikes`, for an
operator to give one of them another address. Until then the look-alike account cannot log in by password
(its address finds the other account), and the real owner logs in as before.
"""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from accounts.emails import describe_lookalike_groups, email_lookup_key, lookalike_groups


def refresh_email_keys(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    users = apps.get_model("accounts", "User").objects.using(schema_editor.connection.alias)
    rows = list(users.order_by("pk").values_list("pk", "email", "email_key"))
    taken = {key for _, _, key in rows}
    pending = {pk: (old, email_lookup_key(email)) for pk, email, old in rows}
    pending = {pk: keys for pk, keys in pending.items() if keys[0] != keys[1]}
    # Passes until nothing moves: a key freed by one account's move may be the new key of another.
    moved = True
    while moved:
        moved = False
        for pk, (old, new) in list(pending.items()):
            if new in taken:
                continue
            users.filter(pk=pk).update(email_key=new)
            taken.discard(old)
            taken.add(new)
            del pending[pk]
            moved = True
    if pending:
        groups = lookalike_groups((pk, email) for pk, email, _ in rows)
        # Printed, not logged: the operator running `migrate` must read it.
        print(f"\n{describe_lookalike_groups(groups)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_email_key")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email_key",
            field=models.TextField(
                editable=False,
                help_text="The address NFKC-normalised, case-folded and without combining marks: accounts are "
                "found by this.",
            ),
        ),
        migrations.RunPython(refresh_email_keys, migrations.RunPython.noop),
    ]
