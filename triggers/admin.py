"""Admin for triggers: look, disable, delete. Secrets stay out of the pages."""

from __future__ import annotations

from django.contrib import admin

from triggers.models import Schedule, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["__str__", "token_prefix", "workflow", "owner", "enabled", "last_called_at", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "owner__email", "workflow__name"]
    list_select_related = ["workflow", "owner"]
    fields = ["id", "owner", "workflow", "name", "token_prefix", "enabled", "last_called_at", "created_at"]
    readonly_fields = ["id", "owner", "workflow", "token_prefix", "last_called_at", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "workflow",
        "owner",
        "cron",
        "timezone",
        "enabled",
        "next_run_at",
        "last_error",
    ]
    list_filter = ["enabled"]
    search_fields = ["name", "owner__email", "workflow__name"]
    list_select_related = ["workflow", "owner"]
    readonly_fields = [
        "id",
        "owner",
        "workflow",
        "cron",
        "timezone",
        "next_run_at",
        "last_run_at",
        "last_run_id",
    ]
    fields = [
        "id",
        "owner",
        "workflow",
        "name",
        "cron",
        "timezone",
        "inputs",
        "enabled",
        "next_run_at",
        "last_run_at",
        "last_run_id",
        "last_error",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False
