"""REST API for a workflow's webhooks and schedules (owner only; anyone else's is a 404)."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import bad_request
from core.pagination import PAGE_ERRORS, Page, PageQuerySerializer, PageSerializer
from triggers import selectors, services
from triggers.serializers import (
    IssuedWebhookSerializer,
    ScheduleSerializer,
    ScheduleUpdateSerializer,
    ScheduleWriteSerializer,
    UpdatedWebhookSerializer,
    WebhookSerializer,
    WebhookWriteSerializer,
)
from workflows.selectors import workflow_get

_NOT_FOUND = {404: OpenApiResponse(description="No such workflow or trigger of yours.")}
_BAD = {400: bad_request("Invalid input: a field, a cron expression (`cron`) or a time zone (`timezone`).")}


def _issued(request: Request, issued: services.IssuedWebhook, code: int = status.HTTP_200_OK) -> Response:
    """The webhook with what it was just given (its URL, its signing secret): the only answers with them."""
    data = WebhookSerializer(issued.webhook).data
    if issued.token is not None:
        data["url"] = request.build_absolute_uri(reverse("webhook-call", kwargs={"token": issued.token}))
    if issued.signing_secret is not None:
        data["signingSecret"] = issued.signing_secret
    return Response(data, status=code)


def _page(request: Request, queryset: Any, serializer: type[serializers.Serializer]) -> Response:
    page, _ = Page.from_request(request)
    return page.response(request, **page.payload(queryset, serializer, request=request))


class WebhookPageSerializer(PageSerializer):
    results = WebhookSerializer(many=True)


class SchedulePageSerializer(PageSerializer):
    results = ScheduleSerializer(many=True)


class WebhookListCreateApi(APIView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: WebhookPageSerializer, **PAGE_ERRORS, **_NOT_FOUND},
        summary="A workflow's webhooks, newest first",
    )
    def get(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        return _page(
            request, selectors.webhook_list(owner=request.user, workflow=workflow), WebhookSerializer
        )

    @extend_schema(
        request=WebhookWriteSerializer,
        responses={201: IssuedWebhookSerializer, **_BAD, **_NOT_FOUND},
        summary="Add a webhook: a secret URL that runs the published version with the posted inputs (the URL"
        " and signing secret are returned only this once)",
    )
    def post(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        payload = WebhookWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = services.webhook_create(owner=request.user, workflow=workflow, **payload.validated_data)
        return _issued(request, issued, status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    @extend_schema(
        responses={200: WebhookSerializer, **_NOT_FOUND}, summary="One webhook (without its URL or secret)"
    )
    def get(self, request: Request, webhook_id: uuid.UUID) -> Response:
        return Response(
            WebhookSerializer(selectors.webhook_get(owner=request.user, webhook_id=webhook_id)).data
        )

    @extend_schema(
        request=WebhookWriteSerializer,
        responses={200: UpdatedWebhookSerializer, **_BAD, **_NOT_FOUND},
        summary="Rename, enable or disable a webhook, or switch signing on (the new secret is returned only"
        " this once) or off",
    )
    def patch(self, request: Request, webhook_id: uuid.UUID) -> Response:
        webhook = selectors.webhook_get(owner=request.user, webhook_id=webhook_id)
        payload = WebhookWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return _issued(request, services.webhook_update(webhook=webhook, **payload.validated_data))

    @extend_schema(responses={204: None, **_NOT_FOUND}, summary="Delete a webhook (its URL answers 404)")
    def delete(self, request: Request, webhook_id: uuid.UUID) -> Response:
        services.webhook_delete(webhook=selectors.webhook_get(owner=request.user, webhook_id=webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateApi(APIView):
    @extend_schema(
        request=None,
        responses={200: IssuedWebhookSerializer, **_NOT_FOUND},
        summary="Rotate a webhook: a new URL and signing secret (returned only this once); the old URL"
        " answers 404 at once",
    )
    def post(self, request: Request, webhook_id: uuid.UUID) -> Response:
        webhook = selectors.webhook_get(owner=request.user, webhook_id=webhook_id)
        return _issued(request, services.webhook_rotate(webhook=webhook))


class ScheduleListCreateApi(APIView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: SchedulePageSerializer, **PAGE_ERRORS, **_NOT_FOUND},
        summary="A workflow's schedules, newest first",
    )
    def get(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        return _page(
            request, selectors.schedule_list(owner=request.user, workflow=workflow), ScheduleSerializer
        )

    @extend_schema(
        request=ScheduleWriteSerializer,
        responses={201: ScheduleSerializer, **_BAD, **_NOT_FOUND},
        summary="Add a schedule: runs the published version with fixed inputs at the cron times",
    )
    def post(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        payload = ScheduleWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        schedule = services.schedule_create(
            owner=request.user,
            workflow=workflow,
            cron=data["cron"],
            timezone_name=data.get("timezone", "UTC"),
            inputs=data.get("inputs"),
            name=data.get("name", ""),
            enabled=data.get("enabled", True),
        )
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleDetailApi(APIView):
    @extend_schema(responses={200: ScheduleSerializer, **_NOT_FOUND}, summary="One schedule")
    def get(self, request: Request, schedule_id: uuid.UUID) -> Response:
        return Response(
            ScheduleSerializer(selectors.schedule_get(owner=request.user, schedule_id=schedule_id)).data
        )

    @extend_schema(
        request=ScheduleUpdateSerializer,
        responses={200: ScheduleSerializer, **_BAD, **_NOT_FOUND},
        summary="Change a schedule (its next run is computed again)",
    )
    def patch(self, request: Request, schedule_id: uuid.UUID) -> Response:
        schedule = selectors.schedule_get(owner=request.user, schedule_id=schedule_id)
        payload = ScheduleUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        schedule = services.schedule_update(
            schedule=schedule,
            cron=data.get("cron"),
            timezone_name=data.get("timezone"),
            inputs=data.get("inputs"),
            name=data.get("name"),
            enabled=data.get("enabled"),
        )
        return Response(ScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None, **_NOT_FOUND}, summary="Delete a schedule")
    def delete(self, request: Request, schedule_id: uuid.UUID) -> Response:
        services.schedule_delete(schedule=selectors.schedule_get(owner=request.user, schedule_id=schedule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
