"""Admin for datasets and experiments: look and delete; they are made through the API."""

from __future__ import annotations

from django.contrib import admin

from evaluations.models import Dataset, Experiment


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "row_count", "created_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["id", "owner", "row_count", "created_at"]
    fields = ["id", "owner", "name", "description", "row_count", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "workflow", "version_label", "dataset", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["owner__email", "workflow__name", "dataset__name"]
    list_select_related = ["owner", "workflow", "dataset"]
    fields = [
        "id",
        "owner",
        "workflow",
        "version_label",
        "dataset",
        "evaluators",
        "repeats",
        "concurrency",
        "reuse",
        "status",
        "stop_reason",
        "summary",
        "created_at",
        "completed_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False
