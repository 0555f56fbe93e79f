"""A connection: where and how to reach a model provider or a service, with its secret encrypted at rest."""

from __future__ import annotations

import json
import re
import uuid

from django.conf import settings
from django.db import models

from connections import crypto
from core.models import TimeStampedModel


class ConnectionKind(models.TextChoices):
    GEMINI = "gemini", "Gemini"
    GROQ = "groq", "Groq"
    OPENAI = "openai", "OpenAI-compatible"
    HTTP = "http", "HTTP header"
    MCP = "mcp", "MCP server"


# Secrets and header values travel in HTTP headers: printable ASCII only (no line breaks, no other scripts).
HEADER_VALUE = re.compile(r"[\x20-\x7e]*\Z")
NOT_A_HEADER_VALUE = "must be printable ASCII characters (it is sent in an HTTP header)"

MODEL_KINDS = frozenset({ConnectionKind.GEMINI, ConnectionKind.GROQ, ConnectionKind.OPENAI})


def networks_setting(kind: str) -> str:
    """The setting listing the private networks a user's connection of this kind may reach."""
    return "MCP_ALLOWED_NETWORKS" if kind == ConnectionKind.MCP else "PROVIDER_ALLOWED_NETWORKS"


class Connection(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None: a site connection, added by an operator in the admin and usable by every user.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connections",
        help_text="Empty for a site connection that every user can use.",
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, help_text="Names the connection in model references: slug/model.")
    kind = models.CharField(max_length=10, choices=ConnectionKind.choices)
    base_url = models.CharField(max_length=500, blank=True)
    header_name = models.CharField(max_length=100, blank=True, default="Authorization")
    # Models of a local server (Ollama, vLLM on your own machine) cost nothing per token.
    local = models.BooleanField(default=False)
    # Fernet tokens (connections.crypto); the last four characters are kept apart to recognise a key.
    secret_encrypted = models.TextField(blank=True, editable=False)
    secret_last4 = models.CharField(max_length=4, blank=True, editable=False)
    headers_encrypted = models.TextField(blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"], name="connection_owner_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["owner", "slug"], name="connection_owner_slug_unique"),
            models.UniqueConstraint(
                fields=["slug"], condition=models.Q(owner__isnull=True), name="connection_site_slug_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ConnectionKind.values), name="connection_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.kind})"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value) if value else ""
        self.secret_last4 = value[-4:] if len(value) >= 8 else ""

    @property
    def extra_headers(self) -> dict[str, str]:
        return json.loads(crypto.decrypt(self.headers_encrypted)) if self.headers_encrypted else {}

    def set_extra_headers(self, headers: dict[str, str]) -> None:
        self.headers_encrypted = crypto.encrypt(json.dumps(headers)) if headers else ""
