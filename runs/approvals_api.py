"""REST endpoints of approval steps: decide one (`POST /api/runs/{id}/approvals/{nodeId}`) and the inbox of
every approval waiting for the user (`GET /api/approvals`)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import bad_request
from core.pagination import PAGE_ERRORS, Page, PageQuerySerializer
from runs.approval_serializers import ApprovalPageSerializer, ApprovalSerializer, DecisionInputSerializer
from runs.decisions import approval_decide
from runs.selectors import approvals_waiting


class ApprovalDecideApi(APIView):
    @extend_schema(
        operation_id="runs_approval_decide",
        request=DecisionInputSerializer,
        responses={
            202: ApprovalSerializer,
            400: bad_request("Not a decision."),
            404: OpenApiResponse(description="No approval of this node in this run (or another user's run)."),
            409: OpenApiResponse(description="Already decided, or the run no longer waits (cancelled)."),
        },
    )
    def post(self, request: Request, run_id: uuid.UUID, node_id: str) -> Response:
        body = DecisionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval = approval_decide(
            owner=request.user,
            run_id=str(run_id),
            node_id=node_id,
            decision=body.validated_data["decision"],
            comment=body.validated_data["comment"],
        )
        return Response(ApprovalSerializer(approval).data, status=202)


class ApprovalInboxApi(APIView):
    @extend_schema(
        operation_id="approvals_waiting",
        parameters=[PageQuerySerializer],
        responses={200: ApprovalPageSerializer, **PAGE_ERRORS},
    )
    def get(self, request: Request) -> Response:
        page, _ = Page.from_request(request)
        payload = page.payload(approvals_waiting(owner=request.user), ApprovalSerializer)
        return page.response(request, **payload)
