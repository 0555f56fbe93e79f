from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("triggers", "0003_webhook_token_digest_fill")]

    operations = [
        migrations.RemoveField(model_name="webhook", name="token"),
        migrations.AlterField(
            model_name="webhook",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
