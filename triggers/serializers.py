"""API shapes of webhooks and schedules (camelCase)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from triggers.models import Schedule, Webhook
from triggers.services import iana_time_zones

_NAME_MAX = Webhook._meta.get_field("name").max_length


def _cron_field(value: str, special: str = "") -> str:
    """One cron field as a regular expression: `*` or a value or a range, with an optional step, in a list."""
    item = rf"\*(?:/[1-9][0-9]?)?|(?:{value})(?:-(?:{value})(?:/[1-9][0-9]?)?)?"
    item = rf"(?:{special}|{item})" if special else rf"(?:{item})"
    return rf"{item}(?:,{item})*"


_MONTH_NAMES = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAY_NAMES = "SUN|MON|TUE|WED|THU|FRI|SAT"
# What `next_due` accepts, for the OpenAPI schema, so that clients (and schema-driven fuzzers) can build a
# valid expression. cronsim, which checks it, also takes lower-case names and a few rarer forms.
CRON_PATTERN = (
    r"^ *"
    + r" +".join(
        [
            _cron_field(r"[1-5]?[0-9]"),
            _cron_field(r"1?[0-9]|2[0-3]"),
            _cron_field(r"[1-9]|[12][0-9]|3[01]", special="L"),
            _cron_field(rf"1[0-2]|[1-9]|{_MONTH_NAMES}"),
            _cron_field(rf"[0-7]|{_DAY_NAMES}", special=r"[0-7]L|[0-7]#[1-5]"),
        ]
    )
    + r" *$"
)
_CRON_HELP = (
    "5 fields separated by spaces: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC)"
    " day-of-week (0-7 or SUN-SAT, 0 and 7 are Sunday). Each is `*`, a value, a range `a-b` or a list"
    " `a,b`, with an optional step `/n`; e.g. `0 9 * * 1-5` (09:00 on weekdays), `*/15 * * * *`."
)


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "enum": sorted(iana_time_zones()),
        "example": "Europe/Paris",
        "description": "An IANA time zone name (default UTC); the cron times are read in it.",
    }
)
class TimeZoneField(serializers.CharField):
    """A time zone name; the service checks it against iana_time_zones(), this documents the same list."""


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 100,
        "pattern": CRON_PATTERN,
        "example": "0 9 * * 1-5",
        "description": _CRON_HELP,
    }
)
class CronField(serializers.CharField):
    """A cron expression; the service checks it with cronsim, this documents the common forms."""


class WebhookWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=_NAME_MAX, required=False, allow_blank=True)
    signed = serializers.BooleanField(
        required=False,
        help_text="Require X-Weft-Timestamp and X-Weft-Signature: sha256=<hex HMAC-SHA256 of"
        ' "<timestamp>.<raw body>"> (default true).',
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
    """What changing a webhook answers (a response shape only)."""

    # Not read_only: drf-spectacular lists every read-only field as required, and this one is optional.
    signingSecret = serializers.CharField(
        required=False,
        help_text="Only when this change switched signing on: the new HMAC key, shown this once.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "signingSecret"]
        read_only_fields = WebhookSerializer.Meta.fields


class ScheduleWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=_NAME_MAX, required=False, allow_blank=True)
    cron = CronField(max_length=100)
    timezone = TimeZoneField(max_length=64, required=False)
    inputs = serializers.DictField(required=False)
    enabled = serializers.BooleanField(required=False)


class ScheduleUpdateSerializer(ScheduleWriteSerializer):
    cron = CronField(max_length=100, required=False)


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
