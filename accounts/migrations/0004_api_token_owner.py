from django.db import migrations, models


class Migration(migrations.Migration):
    """ApiToken.user is ApiToken.owner, as on every other owned model. The index names the field, so it is
    dropped and made again (RenameIndex would leave the old field in the migration state)."""

    dependencies = [
        ("accounts", "0003_email_key_without_marks"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="apitoken", name="apitoken_user_created"),
        migrations.RenameField(model_name="apitoken", old_name="user", new_name="owner"),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(fields=["owner", "-created_at"], name="apitoken_owner_created"),
        ),
    ]
