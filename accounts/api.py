"""REST API for personal API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.serializers import ApiTokenCreateSerializer, ApiTokenSerializer, IssuedApiTokenSerializer
from core.api import bad_request


class ApiTokenListCreateApi(APIView):
    @extend_schema(responses={200: ApiTokenSerializer(many=True)}, summary="List your API tokens")
    def get(self, request: Request) -> Response:
        tokens = selectors.api_token_list(owner=request.user)
        return Response(ApiTokenSerializer(tokens, many=True).data)

    @extend_schema(
        request=ApiTokenCreateSerializer,
        responses={
            201: IssuedApiTokenSerializer,
            400: bad_request("No valid name, or already API_TOKENS_MAX_PER_USER tokens (default 50)."),
        },
        summary="Create an API token (the token is returned only once)",
    )
    def post(self, request: Request) -> Response:
        payload = ApiTokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = services.api_token_create(owner=request.user, name=payload.validated_data["name"])
        data = IssuedApiTokenSerializer(issued.token).data
        data["token"] = issued.secret
        return Response(data, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="No such token of yours.")},
        summary="Revoke an API token",
    )
    def delete(self, request: Request, token_id: int) -> Response:
        token = selectors.api_token_get(owner=request.user, token_id=token_id)
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
