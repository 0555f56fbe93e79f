"""Ways to start a workflow's published version from outside: webhooks (a secret URL) and schedules (cron).

The app sits above runs (accounts <- workflows <- runs <- triggers): triggers start runs, and a run
names its trigger only by id (`WorkflowRun.trigger_ref`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Webhook(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=100, blank=True)
    # The URL /hooks/<token> is shown once (creation, rotation); only its SHA-256 digest is kept, which is
    # what a call is looked up by, like an API token.
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(
        max_length=8, editable=False, help_text="The token's first characters, as logs show the URL."
    )
    # The HMAC-SHA256 key of X-Weft-Signature; "" when calls need no signature. Kept as it is, because
    # checking a signature needs it; the API shows it only when it is issued.
    signing_secret = models.CharField(max_length=64, blank=True)
    enabled = models.BooleanField(default=True)
    last_called_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="webhook_owner_created")]

    def __str__(self) -> str:
        return self.name or f"webhook {self.id}"


class Schedule(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedules")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=100, blank=True)
    cron = models.CharField(
        max_length=100, help_text="Five fields: minute hour day-of-month month day-of-week."
    )
    timezone = models.CharField(max_length=64, default="UTC")
    inputs = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # The next due time; null while disabled. The scheduler claims due rows and advances this.
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_id = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="schedule_owner_created"),
            models.Index(fields=["next_run_at"], condition=models.Q(enabled=True), name="schedule_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enabled=False) | models.Q(next_run_at__isnull=False),
                name="schedule_enabled_has_next_run",
            )
        ]

    def __str__(self) -> str:
        return self.name or f"schedule {self.cron}"
