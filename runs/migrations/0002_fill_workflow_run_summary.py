"""Fill the run count and last run status that workflows now store (written by runs.services from here on)."""

from django.db import migrations

from runs.models import workflow_run_summary


def fill(apps, schema_editor):
    apps.get_model("workflows", "Workflow").objects.update(
        **workflow_run_summary(apps.get_model("runs", "WorkflowRun"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0001_initial"),
        ("workflows", "0002_workflow_run_summary"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
