"""API shapes for uploads."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.pagination import PageSerializer
from uploads.images import ALLOWED_FORMATS_IN_WORDS
from uploads.models import Upload


class UploadCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file gets the image checks' clearer message
        help_text=f"A {ALLOWED_FORMATS_IN_WORDS} image.",
    )


class UploadSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text="Owner-only URL of the image (GET /api/uploads/{id}/content)."
    )
    contentType = serializers.CharField(source="content_type", read_only=True)
    filename = serializers.CharField(source="original_name", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Upload
        fields = ["id", "url", "width", "height", "contentType", "size", "filename", "createdAt"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_url(self, upload: Upload) -> str:
        path = reverse("api-upload-content", kwargs={"upload_id": upload.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class UploadPageSerializer(PageSerializer):
    results = UploadSerializer(many=True)
