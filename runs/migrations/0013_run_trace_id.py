from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0012_run_trigger_mcp"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflowrun",
            name="trace_id",
            field=models.CharField(blank=True, help_text="The OpenTelemetry trace id (hex).", max_length=32),
        ),
        migrations.AddField(
            model_name="workflowrun",
            name="trace_parent_id",
            field=models.CharField(blank=True, help_text="The span that started the run.", max_length=16),
        ),
    ]
