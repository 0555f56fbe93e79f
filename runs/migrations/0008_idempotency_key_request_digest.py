from django.db import migrations, models


class Migration(migrations.Migration):
    """Keys written before have no digest (""): no request matches it, so reusing one of them within its
    last 24 hours is refused (422) rather than answered with a run that may belong to another request."""

    dependencies = [
        ("runs", "0007_child_run_item"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="request_digest",
            field=models.CharField(
                default="",
                help_text="SHA-256 of the request (path and canonical JSON body) the key answers.",
                max_length=64,
            ),
            preserve_default=False,
        ),
    ]
