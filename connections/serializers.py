"""API shapes for connections: the secret goes in on write and never comes out."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections.models import HEADER_VALUE, NOT_A_HEADER_VALUE, Connection, ConnectionKind
from core.pagination import PageSerializer

_HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"


class ConnectionWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(
        max_length=50, help_text="Names the connection in model references: <slug>/<model id>."
    )
    kind = serializers.ChoiceField(choices=ConnectionKind.choices)
    baseUrl = serializers.CharField(
        source="base_url",
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="The API's base URL (an OpenAI-compatible server's /v1, an MCP server's URL).",
    )
    secret = serializers.CharField(
        max_length=4096,
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=True,
        help_text="API key or token. Write-only: reads show secretSet and secretLast4.",
    )
    headers = serializers.DictField(
        child=serializers.CharField(max_length=4096),
        required=False,
        write_only=True,
        help_text="Extra headers sent with every call; values are encrypted and never shown again.",
    )
    headerName = serializers.RegexField(
        _HEADER_NAME, source="header_name", max_length=100, required=False, help_text="http: the header."
    )
    local = serializers.BooleanField(
        required=False, help_text="A server of your own (Ollama, vLLM): its models cost nothing."
    )

    def validate_secret(self, value: str) -> str:
        if not HEADER_VALUE.match(value):
            raise serializers.ValidationError(NOT_A_HEADER_VALUE)
        return value

    def validate_headers(self, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name in value if not re.match(_HEADER_NAME, name)]
        if bad:
            raise serializers.ValidationError(f"not a header name: {bad[0]!r}")
        if not all(HEADER_VALUE.match(header) for header in value.values()):
            raise serializers.ValidationError(NOT_A_HEADER_VALUE)
        return value


class ConnectionSerializer(serializers.ModelSerializer):
    baseUrl = serializers.CharField(source="base_url", read_only=True)
    headerName = serializers.CharField(source="header_name", read_only=True)
    secretSet = serializers.SerializerMethodField()
    secretLast4 = serializers.CharField(source="secret_last4", read_only=True)
    headerNames = serializers.SerializerMethodField(
        help_text="The extra headers' names (values stay hidden)."
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = Connection
        fields = [
            "id",
            "name",
            "slug",
            "kind",
            "baseUrl",
            "headerName",
            "local",
            "secretSet",
            "secretLast4",
            "headerNames",
            "createdAt",
            "lastUsedAt",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_secretSet(self, connection: Connection) -> bool:
        return bool(connection.secret_encrypted)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_headerNames(self, connection: Connection) -> list[str]:
        return sorted(connection.extra_headers)


class ConnectionPageSerializer(PageSerializer):
    results = ConnectionSerializer(many=True)


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField(help_text="What the provider said (never the secret).")


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="<connection slug>/<model id>: what a node's models chain names.")
    connection = serializers.CharField()
    modelId = serializers.CharField()


class ConnectionModelsSerializer(serializers.Serializer):
    models = ModelSerializer(many=True)


def model_entries(slug: str, model_ids: list[str]) -> list[dict[str, Any]]:
    return [{"id": f"{slug}/{model}", "connection": slug, "modelId": model} for model in model_ids]


class CapabilitiesSerializer(serializers.Serializer):
    vision = serializers.BooleanField(allow_null=True, help_text="Reads images; null when unknown.")
    json = serializers.BooleanField(allow_null=True, help_text="Answers in JSON on request.")
    tools = serializers.BooleanField(allow_null=True, help_text="Calls tools.")
    streaming = serializers.BooleanField(allow_null=True)


class CatalogModelSerializer(ModelSerializer):
    capabilities = CapabilitiesSerializer()
    inputPricePerMillion = serializers.FloatField(
        allow_null=True, help_text="USD per million input tokens; null when unknown, 0 on a local server."
    )
    outputPricePerMillion = serializers.FloatField(allow_null=True)


class ModelCatalogSerializer(serializers.Serializer):
    models = CatalogModelSerializer(many=True)
