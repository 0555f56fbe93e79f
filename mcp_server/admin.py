from django.contrib import admin

from mcp_server.models import WorkflowTool


@admin.register(WorkflowTool)
class WorkflowToolAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "workflow", "enabled", "updated_at")
    list_select_related = ("owner", "workflow")
    raw_id_fields = ("owner", "workflow")
