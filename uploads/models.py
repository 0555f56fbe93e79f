"""An uploaded image: verified, re-encoded and stored under an unguessable key that only its owner reaches."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from uploads.images import ALLOWED_CONTENT_TYPES


class Upload(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    # Name in the default storage: uploads/<owner digest>/<random token>.<ext>.
    storage_key = models.CharField(max_length=255, unique=True)
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField(help_text="Bytes stored (after re-encoding).")
    original_name = models.CharField(max_length=255, blank=True)
    # SHA-256 of the stored bytes: what content keys of the nodes an image feeds hash (engine.keys).
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"], name="upload_owner_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(content_type__in=list(ALLOWED_CONTENT_TYPES)),
                name="upload_content_type_allowed",
            ),
            models.CheckConstraint(
                condition=models.Q(width__gt=0, height__gt=0), name="upload_dimensions_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name or self.storage_key} ({self.content_type}, {self.width}x{self.height})"
