"""REST endpoints of runs: execute and its plan, history (list, detail, logs), cancel, rerun, resume and
usage. Thin: parse, call a service or selector, serialize."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication
from core.api import bad_request
from core.cached_views import OwnerCachedGetMixin
from core.pagination import MAX_LIMIT, PAGE_ERRORS, Page, PageQuerySerializer
from runs.cache import run_detail_cache_parts
from runs.costs import USAGE_DEFAULT_DAYS, USAGE_MAX_DAYS, usage_report
from runs.idempotency import IDEMPOTENCY_HEADER, StartedRun, request_digest
from runs.models import RunTrigger
from runs.result_serializers import (
    LogPageSerializer,
    LogSerializer,
    RunDetailResponseSerializer,
    RunPageSerializer,
    RunSummarySerializer,
)
from runs.selectors import (
    LOG_PAGE_SIZE,
    run_detail,
    run_get,
    run_list_page,
    run_logs,
    run_node_output,
    run_outputs,
    run_wait_finished,
)
from runs.serializers import (
    ExecuteInputSerializer,
    PlanOutputSerializer,
    RerunInputSerializer,
    RunCreatedSerializer,
    RunFinishedSerializer,
    RunListQuerySerializer,
    RunWorkflowInputSerializer,
    plan_handler,
)
from runs.services import run_cancel, run_plan, run_start
from runs.usage_serializers import UsageOutputSerializer, UsageQuerySerializer
from workflows.models import Workflow
from workflows.selectors import workflow_get


def _accepted_run(run_id: uuid.UUID) -> Response:
    return Response({"runId": str(run_id)}, status=status.HTTP_202_ACCEPTED)


def _idempotency(request: Request) -> dict[str, Any]:
    """run_start's Idempotency-Key, bound to this endpoint (with its workflow id) and this body; without a
    key there is nothing to bind, and the body is not hashed."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return {"idempotency_key": None}
    body = dict(request.data.lists()) if isinstance(request.data, QueryDict) else request.data
    return {"idempotency_key": key, "request_digest": request_digest(path=request.path, body=body)}


def _started_response(started: StartedRun, *, wait: float = 0) -> Response:
    run = run_wait_finished(run=started.run, timeout_s=wait) if wait else started.run
    if wait and run.is_finished:
        body = {"runId": str(run.id), "status": run.status, "outputs": run_outputs(run=run)}
        response = Response(body, status=status.HTTP_200_OK)
    else:
        response = _accepted_run(run.id)
    if started.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


_IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): the same request with the same key from you within 24 h "
    "answers with the run the first request started instead of starting another (the answer then has "
    "`Idempotent-Replayed: true`). The key is bound to the endpoint, the workflow and the JSON body: reusing "
    "it for a different request is a 422.",
)
_KEY_REUSED = {422: bad_request("The Idempotency-Key was already used for a different request.")}


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
        parameters=[_IDEMPOTENCY_PARAMETER],
        responses={202: RunCreatedSerializer, **_ERRORS, **_KEY_REUSED, **_TOO_MANY},
    )
    def post(self, request: Request) -> Response:
        data, graph, workflow, version = _execute_input(request)
        started = run_start(
            owner=request.user,
            trigger=_trigger_of(request),
            graph=graph,
            workflow=workflow,
            workflow_version=version,
            scope=data["scope"],
            node_ids=data["nodeIds"],
            reuse=data["reuse"],
            inputs=data["inputs"],
            **_idempotency(request),
        )
        return _started_response(started)


class WorkflowRunStartApi(APIView):
    @extend_schema(
        operation_id="workflows_runs_create",
        summary="Run a workflow's published version with inputs",
        description="Runs the published version (see `POST /api/workflows/{id}/publish`) with the given "
        "`inputs`; the workflow's interface is in `GET /api/workflows/{id}` (`inputs`, `outputs`). "
        "Answers 202 `{runId}` at once, or with `wait` 200 `{runId, status, outputs}` if the run ends in "
        "time. A workflow with no published version is a 409.",
        request=RunWorkflowInputSerializer,
        parameters=[_IDEMPOTENCY_PARAMETER],
        responses={
            200: RunFinishedSerializer,
            202: RunCreatedSerializer,
            **_ERRORS,
            409: OpenApiResponse(description="The workflow is not published."),
            **_KEY_REUSED,
            **_TOO_MANY,
        },
    )
    def post(self, request: Request, workflow_id: uuid.UUID) -> Response:
        workflow = workflow_get(owner=request.user, workflow_id=workflow_id)
        payload = RunWorkflowInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        started = run_start(
            owner=request.user,
            trigger=RunTrigger.API,
            workflow=workflow,
            inputs=data["inputs"],
            reuse=data["reuse"],
            **_idempotency(request),
        )
        return _started_response(started, wait=data["wait"])


def _trigger_of(request: Request) -> RunTrigger:
    """A signed-in browser is the editor; a bearer token is a script or another program."""
    if isinstance(request.successful_authenticator, ApiTokenAuthentication):
        return RunTrigger.API
    return RunTrigger.EDITOR


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
        data, graph, workflow, _ = _execute_input(request)
        plan, calls = run_plan(
            owner=request.user,
            graph=graph,
            workflow=workflow,
            scope=data["scope"],
            node_ids=data["nodeIds"],
            reuse=data["reuse"],
            inputs=data["inputs"],
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
                "handler": plan_handler(plan.handlers.get(node.node_id)),
            }
            for node in plan.nodes.values()
        ]
        body = {"nodes": nodes, "llmCalls": calls.total, "llmCallsPerItem": calls.per_item}
        return Response(PlanOutputSerializer(body).data)


class RunListApi(APIView):
    @extend_schema(
        operation_id="runs_list",
        parameters=[RunListQuerySerializer],
        responses={200: RunPageSerializer, **PAGE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        page, filters = Page.from_request(request, RunListQuerySerializer)
        payload = run_list_page(
            owner=request.user,
            page=page,
            status=filters.get("status"),
            workflow_id=filters.get("workflow"),
            trigger=filters.get("trigger"),
            trigger_ref=filters.get("triggerRef"),
        )
        return page.response(request, **payload)


class RunDetailApi(OwnerCachedGetMixin, APIView):
    def owner_cache_entry_parts(self, *, run_id: uuid.UUID) -> tuple[object, ...]:
        return run_detail_cache_parts(run_id=run_id)

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
        run = run_cancel(run=run)
        return Response(RunSummarySerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunRerunApi(APIView):
    @extend_schema(
        operation_id="runs_rerun",
        request=None,
        responses={202: RunCreatedSerializer, 404: _ERRORS[404], **_TOO_MANY},
    )
    def post(self, request: Request, run_id: uuid.UUID) -> Response:
        body = RerunInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_get(owner=request.user, run_id=run_id)
        started = run_start(owner=request.user, again=run, reuse=body.validated_data["reuse"])
        return _accepted_run(started.run.id)


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
        run = run_get(owner=request.user, run_id=run_id)
        started = run_start(owner=request.user, again=run, resume=True)
        return _accepted_run(started.run.id)


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
        start = query.validated_data.get("from") or end - timedelta(days=USAGE_DEFAULT_DAYS - 1)
        if start > end:
            raise ValidationError({"from": "must not be after `to`"})
        if (end - start).days >= USAGE_MAX_DAYS:
            raise ValidationError({"from": f"a report covers at most {USAGE_MAX_DAYS} days"})
        report = usage_report(
            owner=request.user, start=start, end=end, group_by=query.validated_data["groupBy"]
        )
        return Response(UsageOutputSerializer(report).data)
