"""API shapes of webhooks and schedules (camelCase)."""

from __future__ import annotations

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
    """A webhook as reads show it: without its URL and signing secret, which are shown only when issued."""

    workflowId = serializers.UUIDField(source="workflow_id", read_only=True)
    tokenPrefix = serializers.CharField(
        source="token_prefix",
        read_only=True,
        help_text="The first characters of the URL's token, as logs show it (`/hooks/AbCd…`).",
    )
    signed = serializers.SerializerMethodField(help_text="Whether calls need X-Weft-Signature.")
    lastCalledAt = serializers.DateTimeField(source="last_called_at", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Webhook
        fields = ["id", "workflowId", "name", "tokenPrefix", "signed", "enabled", "lastCalledAt", "createdAt"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_signed(self, webhook: Webhook) -> bool:
        return bool(webhook.signing_secret)


class IssuedWebhookSerializer(WebhookSerializer):
    """What creating or rotating a webhook answers: its URL and signing secret, shown this once."""

    url = serializers.URLField(
        read_only=True, help_text="POST a JSON object here; its fields fill the inputs. Shown only this once."
    )
    signingSecret = serializers.CharField(
        read_only=True, help_text='The HMAC key; "" when unsigned. Shown only this once.'
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "url", "signingSecret"]
        read_only_fields = fields


class UpdatedWebhookSerializer(WebhookSerializer):
    signingSecret = serializers.CharField(
        read_only=True,
        required=False,
        help_text="Only when this change switched signing on: the new HMAC key, shown this once.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "signingSecret"]
        read_only_fields = fields


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
