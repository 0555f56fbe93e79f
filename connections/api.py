"""REST API for connections: CRUD, a test call, and the models a connection offers. Secrets are write-only."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connections import selectors, services
from connections.catalog import model_catalog
from connections.mcp import connection_tools
from connections.serializers import (
    ConnectionModelsSerializer,
    ConnectionPageSerializer,
    ConnectionSerializer,
    ConnectionTestSerializer,
    ConnectionWriteSerializer,
    ModelCatalogSerializer,
    model_entries,
)
from core.api import bad_request
from core.engine_config import price_table
from core.pagination import PAGE_ERRORS, Page, PageQuerySerializer

_NOT_FOUND = OpenApiResponse(description="No such connection of yours.")
_INVALID = bad_request("A field is missing or wrong; a refused baseUrl says which rule refused it.")
_RATE_LIMITED = OpenApiResponse(description="Over CONNECTION_CALL_RATE_LIMIT calls to providers.")


class ConnectionListCreateApi(APIView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: ConnectionPageSerializer, **PAGE_ERRORS},
        summary="List your connections, newest first",
        operation_id="connections_list",
    )
    def get(self, request: Request) -> Response:
        page, _ = Page.from_request(request)
        connections = selectors.connection_list(owner=request.user)
        return page.response(request, **page.payload(connections, ConnectionSerializer))

    @extend_schema(
        request=ConnectionWriteSerializer,
        responses={201: ConnectionSerializer, 400: _INVALID},
        summary="Add a connection (a provider key, an OpenAI-compatible server, an HTTP or MCP credential)",
    )
    def post(self, request: Request) -> Response:
        payload = ConnectionWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        connection = services.connection_create(owner=request.user, **payload.validated_data)
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailApi(APIView):
    @extend_schema(responses={200: ConnectionSerializer, 404: _NOT_FOUND}, summary="One of your connections")
    def get(self, request: Request, connection_id: str) -> Response:
        connection = selectors.connection_get(owner=request.user, connection_id=connection_id)
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(
        request=ConnectionWriteSerializer(partial=True),
        responses={200: ConnectionSerializer, 400: _INVALID, 404: _NOT_FOUND},
        summary="Change a connection; a secret or headers left out stay as they are",
    )
    def patch(self, request: Request, connection_id: str) -> Response:
        connection = selectors.connection_get(owner=request.user, connection_id=connection_id)
        payload = ConnectionWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        connection = services.connection_update(connection=connection, **payload.validated_data)
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(responses={204: None, 404: _NOT_FOUND}, summary="Delete a connection")
    def delete(self, request: Request, connection_id: str) -> Response:
        connection = selectors.connection_get(owner=request.user, connection_id=connection_id)
        services.connection_delete(connection=connection)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestApi(APIView):
    @extend_schema(
        request=None,
        responses={200: ConnectionTestSerializer, 404: _NOT_FOUND, 429: _RATE_LIMITED},
        summary="Test a connection with a cheap real call (list its models)",
    )
    def post(self, request: Request, connection_id: str) -> Response:
        connection = selectors.connection_get(owner=request.user, connection_id=connection_id)
        services.provider_calls_count(owner=request.user)
        ok, detail = services.connection_test(connection=connection)
        return Response({"ok": ok, "detail": detail})


class ConnectionModelsApi(APIView):
    @extend_schema(
        responses={
            200: ConnectionModelsSerializer,
            400: bad_request("Not a model connection (gemini, groq, openai)."),
            404: _NOT_FOUND,
            429: _RATE_LIMITED,
            424: OpenApiResponse(description="The provider did not answer, or refused; detail says why."),
        },
        summary="The models a connection's server offers",
    )
    def get(self, request: Request, connection_id: str) -> Response:
        connection = selectors.connection_get(owner=request.user, connection_id=connection_id)
        services.provider_calls_count(owner=request.user)
        models = services.connection_models(connection=connection)
        return Response({"models": model_entries(connection.slug, models)})


class ModelListApi(APIView):
    @extend_schema(
        responses={200: ModelCatalogSerializer},
        summary="Every model you can name in a chain: yours and the site's connections' models",
        operation_id="models_list",
    )
    def get(self, request: Request) -> Response:
        return Response({"models": model_catalog(owner=request.user, prices=price_table())})


class ConnectionToolsApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("refresh", bool, description="Ask the server again, not the cache.")],
        responses={
            200: OpenApiResponse(description="`{tools: [{name, description, inputSchema, annotations}]}`"),
            400: bad_request("Not an mcp connection."),
            404: _NOT_FOUND,
            429: _RATE_LIMITED,
            424: OpenApiResponse(description="The MCP server did not answer, or refused; detail says why."),
        },
        summary="The tools an MCP connection's server offers (cached for a minute)",
    )
    def get(self, request: Request, connection_id: str) -> Response:
        connection = selectors.connection_get(owner=request.user, connection_id=connection_id)
        services.provider_calls_count(owner=request.user)
        refresh = request.query_params.get("refresh") in ("1", "true")
        return Response({"tools": connection_tools(connection=connection, refresh=refresh)})
