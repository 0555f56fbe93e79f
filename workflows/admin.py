"""Admin for workflows: listing, search and metadata edits; graphs and history are read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from core.cache import owner_caches_invalidate
from workflows.models import Workflow, WorkflowVersion
from workflows.services import workflow_delete


class WorkflowVersionInline(admin.TabularInline):
    model = WorkflowVersion
    fields = ["number", "name", "saved_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        return False


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "version", "is_published", "updated_at", "run_count"]
    list_filter = ["is_published", "created_at", "updated_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner"]
    # The graph changes only through the API, where it is validated and versioned.
    fields = [
        "id",
        "owner",
        "name",
        "description",
        "is_published",
        "published_version",
        "version",
        "nodes",
        "edges",
        "created_at",
        "updated_at",
    ]
    # Publishing goes through the API too: it checks that the version can run.
    readonly_fields = [name for name in fields if name not in ("name", "description")]
    inlines = [WorkflowVersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Workflow, form: ModelForm, change: bool) -> None:
        # Only what the form edits: the run summary may have moved on since the page was loaded.
        obj.save(update_fields=[*form.changed_data, "updated_at"])
        owner_caches_invalidate(owner_id=obj.owner_id)

    def delete_model(self, request: HttpRequest, obj: Workflow) -> None:
        workflow_delete(workflow=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            workflow_delete(workflow=workflow)
