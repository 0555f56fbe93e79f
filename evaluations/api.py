"""REST API for datasets and experiments (owner only; anyone else's is a 404). Thin views: parse, call a
service or selector, serialize."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import bad_request
from core.pagination import PAGE_ERRORS, Page, PageQuerySerializer, PageSerializer
from core.parsers import StrictJSONParser
from evaluations import selectors, services
from evaluations.datasets import rows_from_json, rows_from_upload
from evaluations.serializers import (
    DatasetRowSerializer,
    DatasetRowsWriteSerializer,
    DatasetSerializer,
    DatasetWriteSerializer,
    ExperimentItemSerializer,
    ExperimentSerializer,
    ExperimentWriteSerializer,
)
from workflows.selectors import workflow_get

_NOT_FOUND = {404: OpenApiResponse(description="No such dataset or experiment of yours.")}
_BAD = {400: bad_request("Invalid input, named by its path (`rows[3].inputs`, `evaluators[0].output`).")}


def _page(
    request: Request, queryset: Any, serializer: type[serializers.Serializer], query: Any = None
) -> Response:
    page, _ = Page.from_request(request, query or PageQuerySerializer)
    return page.response(request, **page.payload(queryset, serializer, request=request))


class DatasetPageSerializer(PageSerializer):
    results = DatasetSerializer(many=True)


class DatasetRowPageSerializer(PageSerializer):
    results = DatasetRowSerializer(many=True)


class ExperimentPageSerializer(PageSerializer):
    results = ExperimentSerializer(many=True)


class ExperimentItemPageSerializer(PageSerializer):
    results = ExperimentItemSerializer(many=True)


class DatasetListCreateApi(APIView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: DatasetPageSerializer, **PAGE_ERRORS},
        summary="Your datasets",
        operation_id="datasets_list",
    )
    def get(self, request: Request) -> Response:
        return _page(request, selectors.dataset_list(owner=request.user), DatasetSerializer)

    @extend_schema(
        request=DatasetWriteSerializer,
        responses={201: DatasetSerializer, **_BAD},
        summary="Create an empty dataset",
    )
    def post(self, request: Request) -> Response:
        payload = DatasetWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dataset = services.dataset_create(owner=request.user, **payload.validated_data)
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema(responses={200: DatasetSerializer, **_NOT_FOUND}, summary="One dataset")
    def get(self, request: Request, dataset_id: uuid.UUID) -> Response:
        return Response(
            DatasetSerializer(selectors.dataset_get(owner=request.user, dataset_id=dataset_id)).data
        )

    @extend_schema(
        responses={204: None, **_NOT_FOUND},
        summary="Delete a dataset with its rows and the experiments run on it",
    )
    def delete(self, request: Request, dataset_id: uuid.UUID) -> Response:
        services.dataset_delete(dataset=selectors.dataset_get(owner=request.user, dataset_id=dataset_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetRowsApi(APIView):
    parser_classes = [StrictJSONParser, MultiPartParser]

    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: DatasetRowPageSerializer, **PAGE_ERRORS, **_NOT_FOUND},
        summary="A dataset's rows, in order",
        operation_id="datasets_rows_list",
    )
    def get(self, request: Request, dataset_id: uuid.UUID) -> Response:
        dataset = selectors.dataset_get(owner=request.user, dataset_id=dataset_id)
        return _page(request, selectors.dataset_rows(dataset=dataset), DatasetRowSerializer)

    @extend_schema(
        request=DatasetRowsWriteSerializer,
        responses={200: DatasetSerializer, **_BAD, **_NOT_FOUND},
        summary="Add rows: JSON `rows`, or a multipart `file` (CSV with inputs.<name>/expected.<name>"
        " columns, or JSONL); all or none, up to DATASET_MAX_ROWS",
    )
    def post(self, request: Request, dataset_id: uuid.UUID) -> Response:
        dataset = selectors.dataset_get(owner=request.user, dataset_id=dataset_id)
        upload = request.FILES.get("file")
        if upload is not None:
            parsed = rows_from_upload(upload)
        else:
            payload = DatasetRowsWriteSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            parsed = rows_from_json(payload.validated_data["rows"])
        return Response(DatasetSerializer(services.dataset_rows_add(dataset=dataset, parsed=parsed)).data)


def _spec(request: Request) -> services.ExperimentSpec:
    payload = ExperimentWriteSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    return services.experiment_spec(
        owner=request.user,
        workflow=workflow_get(owner=request.user, workflow_id=data["workflowId"]),
        version=data["version"],
        dataset=selectors.dataset_get(owner=request.user, dataset_id=data["datasetId"]),
        evaluators=data["evaluators"],
        repeats=data["repeats"],
        concurrency=data["concurrency"],
        reuse=data["reuse"],
    )


class ExperimentListQuerySerializer(PageQuerySerializer):
    workflowId = serializers.UUIDField(required=False, help_text="Only this workflow's experiments.")


class ExperimentListCreateApi(APIView):
    @extend_schema(
        parameters=[ExperimentListQuerySerializer],
        responses={200: ExperimentPageSerializer, **PAGE_ERRORS},
        operation_id="experiments_list",
        summary="Your experiments, newest first (`done`/`total` items; `summary`: the aggregates, refreshed"
        " every few seconds while it runs)",
    )
    def get(self, request: Request) -> Response:
        page, filters = Page.from_request(request, ExperimentListQuerySerializer)
        workflow = None
        if "workflowId" in filters:
            workflow = workflow_get(owner=request.user, workflow_id=filters["workflowId"])
        experiments = selectors.experiment_list(owner=request.user, workflow=workflow)
        return page.response(request, **page.payload(experiments, ExperimentSerializer))

    @extend_schema(
        request=ExperimentWriteSerializer,
        responses={201: ExperimentSerializer, **_BAD, **_NOT_FOUND},
        summary="Start an experiment: one run per row and repeat (trigger evaluation), `concurrency` at"
        " a time",
    )
    def post(self, request: Request) -> Response:
        experiment = services.experiment_start(owner=request.user, spec=_spec(request))
        return Response(ExperimentSerializer(experiment).data, status=status.HTTP_201_CREATED)


class ExperimentPlanApi(APIView):
    @extend_schema(
        request=ExperimentWriteSerializer,
        responses={
            200: OpenApiResponse(description="{runs, llmCalls, judgeCalls, reusedNodes}"),
            **_BAD,
            **_NOT_FOUND,
        },
        summary="How many runs and LLM calls an experiment would take, with reuse as it stands",
    )
    def post(self, request: Request) -> Response:
        return Response(services.experiment_plan(owner=request.user, spec=_spec(request)))


class ExperimentDetailApi(APIView):
    @extend_schema(
        responses={200: ExperimentSerializer, **_NOT_FOUND},
        summary="An experiment: status, progress and aggregates (its rows: /items)",
    )
    def get(self, request: Request, experiment_id: uuid.UUID) -> Response:
        experiment = selectors.experiment_get(owner=request.user, experiment_id=experiment_id)
        return Response(
            {**ExperimentSerializer(experiment).data, **selectors.experiment_summary(experiment=experiment)}
        )


class ExperimentItemsQuerySerializer(PageQuerySerializer):
    failed = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only failed rows."
    )


class ExperimentItemsApi(APIView):
    @extend_schema(
        parameters=[ExperimentItemsQuerySerializer],
        responses={200: ExperimentItemPageSerializer, **PAGE_ERRORS, **_NOT_FOUND},
        summary="An experiment's rows and repeats: inputs, outputs, each evaluator's score and reason, cost,"
        " duration, run",
    )
    def get(self, request: Request, experiment_id: uuid.UUID) -> Response:
        experiment = selectors.experiment_get(owner=request.user, experiment_id=experiment_id)
        page, filters = Page.from_request(request, ExperimentItemsQuerySerializer)
        items = selectors.experiment_items(experiment=experiment, failed=filters["failed"])
        return page.response(request, **page.payload(items, ExperimentItemSerializer))


class ExperimentCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={
            200: ExperimentSerializer,
            409: OpenApiResponse(description="Already finished."),
            **_NOT_FOUND,
        },
        summary="Cancel an experiment: rows not started are skipped, runs in flight cancelled",
    )
    def post(self, request: Request, experiment_id: uuid.UUID) -> Response:
        experiment = selectors.experiment_get(owner=request.user, experiment_id=experiment_id)
        return Response(ExperimentSerializer(services.experiment_cancel(experiment=experiment)).data)


class CompareQuerySerializer(serializers.Serializer):
    a = serializers.UUIDField(help_text="The baseline experiment.")
    b = serializers.UUIDField(help_text="The experiment compared with it.")


class ExperimentCompareApi(APIView):
    @extend_schema(
        parameters=[CompareQuerySerializer],
        responses={
            200: OpenApiResponse(description="Rows side by side, changes and deltas."),
            **_BAD,
            **_NOT_FOUND,
        },
        summary="Two experiments on one dataset side by side: improved / regressed / unchanged per row and"
        " evaluator, aggregate, cost and latency deltas, and the diff of their versions",
    )
    def get(self, request: Request) -> Response:
        query = CompareQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            selectors.experiment_compare(
                owner=request.user, a_id=query.validated_data["a"], b_id=query.validated_data["b"]
            )
        )
