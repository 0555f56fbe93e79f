"""REST endpoints of runs: execute and its plan, history (list, detail, logs), cancel, rerun, resume and
usage. Thin: parse, call a service or selector, serialize."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import get_usage
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from runs.costs import USAGE_MAX_DAYS, usage_report
from runs.selectors import LOG_PAGE_SIZE, run_detail, run_get, run_list_page, run_logs, run_node_output
from runs.serializers import (
    ExecuteInputSerializer,
    LogPageSerializer,
    LogSerializer,
    PlanOutputSerializer,
    RerunInputSerializer,
    RunCreatedSerializer,
    RunDetailResponseSerializer,
    RunListQuerySerializer,
    RunPageSerializer,
    RunSummarySerializer,
    UsageOutputSerializer,
    UsageQuerySerializer,
)
from runs.services import (
    RunAlreadyFinished,
    RunStillActive,
    TooManyActiveRuns,
    run_cancel,
    run_create,
    run_plan,
    run_rerun,
    run_resume,
)
from workflows.models import Workflow
from workflows.selectors import workflow_get
from workflowsite.api import Conflict, TooManyRequests, bad_request
from workflowsite.pagination import MAX_LIMIT, PAGE_ERRORS, Page, PageQuerySerializer

RATE_LIMIT_GROUP = "runs.execute"


def _execute_rate(group: str, request: Any) -> str:
    # A callable, so the limit follows settings (and test overrides) rather than import time.
    return settings.EXECUTE_RATE_LIMIT


def _rate_limit(request: Request) -> None:
    """Count this request against the user's execute budget (shared by all processes via the cache)."""
    usage = get_usage(
        request, group=RATE_LIMIT_GROUP, key="user", rate=_execute_rate, method="POST", increment=True
    )
    if usage is not None and usage["should_limit"]:
        raise TooManyRequests(
            detail=f"Rate limit of {settings.EXECUTE_RATE_LIMIT} run requests exceeded.",
            wait=max(1, usage["time_left"]),
        )


def _accepted_run(run_id: uuid.UUID) -> Response:
    return Response({"runId": str(run_id)}, status=status.HTTP_202_ACCEPTED)


# Execute and rerun both count against the rate limit and the active-run cap.
_TOO_MANY = {429: OpenApiResponse(description="Over the rate limit or the active-run cap; see Retry-After.")}
_ERRORS = {
    400: bad_request("Invalid input, or a graph the engine refuses."),
    404: OpenApiResponse(description="No such workflow or run (or another user's)."),
}


class ExecuteApi(APIView):
    @extend_schema(
        operation_id="execute",
        request=ExecuteInputSerializer,
        responses={202: RunCreatedSerializer, **_ERRORS, **_TOO_MANY},
    )
    def post(self, request: Request) -> Response:
        _rate_limit(request)
        data, graph, workflow, version = _execute_input(request)
        try:
            run = run_create(
                owner=request.user,
                graph=graph,
                workflow=workflow,
                workflow_version=version,
                scope=data["scope"],
                node_ids=data["nodeIds"],
                reuse=data["reuse"],
            )
        except TooManyActiveRuns as exc:
            raise TooManyRequests(detail=str(exc), wait=5) from exc
        return _accepted_run(run.id)


def _execute_input(request: Request) -> tuple[dict[str, Any], dict[str, Any], Workflow | None, int | None]:
    """The validated execute body, the graph it names, its workflow and version (None for unsaved)."""
    serializer = ExecuteInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    workflow = None
    if "workflowId" in data:
        workflow = workflow_get(owner=request.user, workflow_id=data["workflowId"])
    if "nodes" in data:
        # An unsaved graph (possibly an edited saved workflow): it is the snapshot, not a version.
        return data, {"nodes": data["nodes"], "edges": data["edges"]}, workflow, None
    return data, workflow.graph, workflow, workflow.version


class ExecutePlanApi(APIView):
    @extend_schema(
        operation_id="execute_plan",
        request=ExecuteInputSerializer,
        responses={200: PlanOutputSerializer, **_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data, graph, _, _ = _execute_input(request)
        plan, llm_calls = run_plan(
            owner=request.user,
            graph=graph,
            scope=data["scope"],
            node_ids=data["nodeIds"],
            reuse=data["reuse"],
        )
        nodes = [
            {
                "nodeId": node.node_id,
                "nodeType": node.node_type,
                "fate": node.fate.value,
                "contentKey": node.key,
                "source": {"runId": node.source.run_id, "resultId": node.source.result_id}
                if node.source
                else None,
            }
            for node in plan.nodes.values()
        ]
        return Response(PlanOutputSerializer({"nodes": nodes, "llmCalls": llm_calls}).data)


class RunListApi(APIView):
    @extend_schema(
        operation_id="runs_list",
        parameters=[RunListQuerySerializer],
        responses={200: RunPageSerializer, **PAGE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        page, filters = Page.from_request(request, RunListQuerySerializer)
        payload = run_list_page(
            owner=request.user, page=page, status=filters.get("status"), workflow_id=filters.get("workflow")
        )
        return page.response(request, **payload)


class RunDetailApi(APIView):
    @extend_schema(
        operation_id="runs_retrieve", responses={200: RunDetailResponseSerializer, 404: _ERRORS[404]}
    )
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        payload = run_detail(owner=request.user, run_id=run_id)
        logs_next = None
        if payload["moreLogs"]:
            # The detail holds the logs endpoint's first pages at the largest limit; the rest follow.
            url = reverse("api-run-logs", kwargs={"run_id": run_id})
            query = urlencode({"limit": MAX_LIMIT, "page": LOG_PAGE_SIZE // MAX_LIMIT + 1})
            logs_next = request.build_absolute_uri(f"{url}?{query}")
        return Response({**payload["run"], "logsNext": logs_next})


class RunNodeOutputApi(APIView):
    @extend_schema(
        operation_id="runs_node_output",
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The node's whole output (run details cut it), as a JSON file download.",
            ),
            404: OpenApiResponse(description="No such run (or another user's), node, or output."),
        },
    )
    def get(self, request: Request, run_id: uuid.UUID, node_id: str) -> Response:
        output = run_node_output(owner=request.user, run_id=run_id, node_id=node_id)
        safe_node = re.sub(r"[^A-Za-z0-9_.-]", "_", node_id)[:100]
        disposition = f'attachment; filename="run-{run_id}-{safe_node}-output.json"'
        return Response(output, headers={"Content-Disposition": disposition})


class RunLogsApi(APIView):
    @extend_schema(
        operation_id="runs_logs",
        parameters=[PageQuerySerializer],
        responses={200: LogPageSerializer, **PAGE_ERRORS, 404: _ERRORS[404]},
    )
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        page, _ = Page.from_request(request)
        run = run_get(owner=request.user, run_id=run_id)
        return page.response(request, **page.payload(run_logs(run=run), LogSerializer))


class RunCancelApi(APIView):
    @extend_schema(
        operation_id="runs_cancel",
        request=None,
        responses={
            202: RunSummarySerializer,
            404: _ERRORS[404],
            409: OpenApiResponse(description="The run has already finished."),
        },
    )
    def post(self, request: Request, run_id: uuid.UUID) -> Response:
        run = run_get(owner=request.user, run_id=run_id)
        try:
            run = run_cancel(run=run)
        except RunAlreadyFinished as exc:
            raise Conflict(str(exc), status=exc.status) from exc
        return Response(RunSummarySerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunRerunApi(APIView):
    @extend_schema(
        operation_id="runs_rerun",
        request=None,
        responses={202: RunCreatedSerializer, 404: _ERRORS[404], **_TOO_MANY},
    )
    def post(self, request: Request, run_id: uuid.UUID) -> Response:
        _rate_limit(request)
        body = RerunInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_get(owner=request.user, run_id=run_id)
        try:
            new_run = run_rerun(run=run, reuse=body.validated_data["reuse"])
        except TooManyActiveRuns as exc:
            raise TooManyRequests(detail=str(exc), wait=5) from exc
        return _accepted_run(new_run.id)


class RunResumeApi(APIView):
    @extend_schema(
        operation_id="runs_resume",
        request=None,
        responses={
            202: RunCreatedSerializer,
            404: _ERRORS[404],
            409: OpenApiResponse(description="The run is still queued or running."),
            429: OpenApiResponse(description="Rate limit."),
        },
    )
    def post(self, request: Request, run_id: uuid.UUID) -> Response:
        _rate_limit(request)
        run = run_get(owner=request.user, run_id=run_id)
        try:
            new_run = run_resume(run=run)
        except RunStillActive as exc:
            raise Conflict(str(exc), status=run.status) from exc
        except TooManyActiveRuns as exc:
            raise TooManyRequests(detail=str(exc), wait=5) from exc
        return _accepted_run(new_run.id)


class UsageApi(APIView):
    @extend_schema(
        operation_id="usage",
        parameters=[UsageQuerySerializer],
        responses={200: UsageOutputSerializer, 400: bad_request("Bad dates or groupBy.")},
    )
    def get(self, request: Request) -> Response:
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        end = query.validated_data.get("to") or timezone.now().date()
        start = query.validated_data.get("from") or end - timedelta(days=29)
        if start > end:
            raise ValidationError({"from": "must not be after `to`"})
        if (end - start).days >= USAGE_MAX_DAYS:
            raise ValidationError({"from": f"a report covers at most {USAGE_MAX_DAYS} days"})
        report = usage_report(
            owner=request.user, start=start, end=end, group_by=query.validated_data["groupBy"]
        )
        return Response(UsageOutputSerializer(report).data)
