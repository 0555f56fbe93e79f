from django.contrib import admin

from uploads.models import Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    # Read-only: uploads are made through the API, which verifies and re-encodes the image.
    list_display = ["id", "owner", "original_name", "content_type", "width", "height", "size", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["owner__email", "original_name"]
    list_select_related = ["owner"]
    fields = [*list_display, "storage_key"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
