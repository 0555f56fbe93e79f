"""API shapes of webhooks and schedules (camelCase)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from triggers.models import Schedule, Webhook

_NAME_MAX = Webhook._meta.get_field("name").max_length


class WebhookWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=_NAME_MAX, required=False, allow_blank=True)
    signed = serializers.BooleanField(
        required=False, help_text="Require X-Weft-Signature: sha256=<HMAC-SHA256 of the body> (default true)."
    )
    enabled = serializers.BooleanField(required=False)


class WebhookSerializer(serializers.ModelSerializer):
    workflowId = serializers.UUIDField(source="workflow_id", read_only=True)
    url = serializers.SerializerMethodField(help_text="POST a JSON object here; its fields fill the inputs.")
    signed = serializers.SerializerMethodField()
    signingSecret = serializers.CharField(
        source="signing_secret", read_only=True, help_text='The HMAC key; "" when unsigned.'
    )
    lastCalledAt = serializers.DateTimeField(source="last_called_at", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "workflowId",
            "name",
            "url",
            "signed",
            "signingSecret",
            "enabled",
            "lastCalledAt",
            "createdAt",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, webhook: Webhook) -> str:
        path = reverse("webhook-call", kwargs={"token": webhook.token})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(serializers.BooleanField())
    def get_signed(self, webhook: Webhook) -> bool:
        return bool(webhook.signing_secret)


class ScheduleWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=_NAME_MAX, required=False, allow_blank=True)
    cron = serializers.CharField(
        max_length=100, help_text="5 fields, e.g. `0 9 * * 1-5` (09:00 on weekdays)."
    )
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA name; default UTC.")
    inputs = serializers.DictField(required=False)
    enabled = serializers.BooleanField(required=False)


class ScheduleUpdateSerializer(ScheduleWriteSerializer):
    cron = serializers.CharField(max_length=100, required=False)


class ScheduleSerializer(serializers.ModelSerializer):
    workflowId = serializers.UUIDField(source="workflow_id", read_only=True)
    nextRunAt = serializers.DateTimeField(source="next_run_at", read_only=True, allow_null=True)
    lastRunAt = serializers.DateTimeField(source="last_run_at", read_only=True, allow_null=True)
    lastRunId = serializers.UUIDField(source="last_run_id", read_only=True, allow_null=True)
    lastError = serializers.CharField(source="last_error", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "workflowId",
            "name",
            "cron",
            "timezone",
            "inputs",
            "enabled",
            "nextRunAt",
            "lastRunAt",
            "lastRunId",
            "lastError",
            "createdAt",
        ]
        read_only_fields = fields
