"""Operators' view of runs: filters by status, owner and workflow; results and logs inline; cancel/rerun;
per-user daily budgets."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from runs.models import ExecutionLog, NodeResult, UserBudget, WorkflowRun
from runs.recovery import runs_delete
from runs.services import RunAlreadyFinished, TooManyActiveRuns, run_cancel, run_rerun


class NodeResultInline(admin.TabularInline):
    model = NodeResult
    extra = 0
    can_delete = False
    fields = [
        "node_id",
        "node_type",
        "status",
        "duration_ms",
        "provider",
        "model",
        "input_tokens",
        "output_tokens",
        "cost",
        "error_kind",
        "error_message",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: WorkflowRun | None = None) -> bool:
        return False


class ExecutionLogInline(admin.TabularInline):
    model = ExecutionLog
    extra = 0
    can_delete = False
    fields = ["timestamp", "level", "node_id", "message"]
    readonly_fields = fields
    max_num = 0  # no add row; the page still lists every existing line

    def has_add_permission(self, request: HttpRequest, obj: WorkflowRun | None = None) -> bool:
        return False


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "owner",
        "workflow",
        "status",
        "scope",
        "total_nodes",
        "reused_nodes",
        "cost",
        "duration_ms",
        "created_at",
    ]
    list_filter = ["status", "scope", ("owner", admin.RelatedOnlyFieldListFilter), "workflow"]
    list_select_related = ["owner", "workflow"]
    search_fields = ["id", "owner__email", "workflow__name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["owner", "workflow", "resumed_from"]
    readonly_fields = [
        "id",
        "status",
        "reused_nodes",
        "input_tokens",
        "output_tokens",
        "cost",
        "recoveries",
        "trigger_id",
        "heartbeat_at",
        "cancel_requested_at",
        "created_at",
        "started_at",
        "completed_at",
    ]
    inlines = [NodeResultInline, ExecutionLogInline]
    actions = ["cancel_runs", "rerun_runs"]

    def delete_model(self, request: HttpRequest, obj: WorkflowRun) -> None:
        runs_delete(runs=WorkflowRun.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        runs_delete(runs=queryset)

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        cancelled = 0
        for run in queryset:
            try:
                run_cancel(run=run)
                cancelled += 1
            except RunAlreadyFinished:
                pass
        self.message_user(request, f"Cancel requested for {cancelled} run(s).", messages.SUCCESS)

    @admin.action(description="Rerun the selected runs")
    def rerun_runs(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        started = 0
        for run in queryset.select_related("owner", "workflow"):
            try:
                run_rerun(run=run)
                started += 1
            except TooManyActiveRuns as exc:
                self.message_user(request, f"{run.id}: {exc}", messages.WARNING)
        self.message_user(request, f"Started {started} new run(s).", messages.SUCCESS)


@admin.register(UserBudget)
class UserBudgetAdmin(admin.ModelAdmin):
    """Per-user overrides of RUN_DAILY_COST_BUDGET / RUN_DAILY_TOKEN_BUDGET (empty keeps the default)."""

    list_display = ["owner", "daily_cost", "daily_tokens"]
    list_select_related = ["owner"]
    search_fields = ["owner__email"]
    raw_id_fields = ["owner"]
