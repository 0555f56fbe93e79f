"""LLM and Vision nodes saved with `model`/`fallbackModel` get the model chain those fields meant.

The rule is engine.kinds.llm.upgrade_model_fields as of this migration, copied so that the migration keeps
meaning what it did when the code moves on.
"""

from __future__ import annotations

from django.db import migrations

DEFAULTS = {
    "llm": ("gemini/gemini-2.5-flash", "groq/llama-3.3-70b-versatile"),
    "vision": ("gemini/gemini-2.5-flash", "groq/meta-llama/llama-4-scout-17b-16e-instruct"),
}


def _chain(data, default):
    model, fallback = data.get("model"), data.get("fallbackModel")
    has_model = isinstance(model, str) and bool(model)
    has_fallback = isinstance(fallback, str) and bool(fallback)
    if not has_model and not has_fallback:
        return None
    return [
        f"gemini/{model}" if has_model else default[0],
        f"groq/{fallback}" if has_fallback else default[-1],
    ]


def _upgraded(nodes):
    changed = False
    result = []
    for node in nodes if isinstance(nodes, list) else []:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and node.get("type") in DEFAULTS and "models" not in data:
            chain = _chain(data, DEFAULTS[node["type"]])
            if chain is not None:
                kept = {k: v for k, v in data.items() if k not in ("model", "fallbackModel")}
                node = {**node, "data": {**kept, "models": chain}}
                changed = True
        result.append(node)
    return result if changed else None


def forwards(apps, schema_editor):
    for name in ("Workflow", "WorkflowVersion"):
        model = apps.get_model("workflows", name)
        for row in model.objects.only("pk", "nodes").iterator(chunk_size=500):
            nodes = _upgraded(row.nodes)
            if nodes is not None:
                model.objects.filter(pk=row.pk).update(nodes=nodes)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0003_workflow_published_version")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
