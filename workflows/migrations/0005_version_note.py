"""Versions carry an optional note: what the person saving said about the change."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0004_model_chains"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflowversion",
            name="note",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
    ]
