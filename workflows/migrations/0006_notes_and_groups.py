"""Workflows and their versions keep the sticky notes and groups drawn on the canvas."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0005_version_note"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="notes",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="workflow",
            name="groups",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="workflowversion",
            name="notes",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="workflowversion",
            name="groups",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
