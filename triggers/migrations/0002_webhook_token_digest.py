from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("triggers", "0001_webhooks_and_schedules")]

    operations = [
        migrations.AddField(
            model_name="webhook",
            name="token_digest",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="webhook",
            name="token_prefix",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The token's first characters, as logs show the URL.",
                max_length=8,
            ),
            preserve_default=False,
        ),
    ]
