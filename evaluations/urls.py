"""Evaluation API routes, mounted under /api/ by workflowsite.urls."""

from __future__ import annotations

from django.urls import path

from evaluations import api

urlpatterns = [
    path("datasets", api.DatasetListCreateApi.as_view(), name="api-dataset-list"),
    path("datasets/<uuid:dataset_id>", api.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path("datasets/<uuid:dataset_id>/rows", api.DatasetRowsApi.as_view(), name="api-dataset-rows"),
    path("experiments", api.ExperimentListCreateApi.as_view(), name="api-experiment-list"),
    path("experiments/plan", api.ExperimentPlanApi.as_view(), name="api-experiment-plan"),
    path("experiments/compare", api.ExperimentCompareApi.as_view(), name="api-experiment-compare"),
    path("experiments/<uuid:experiment_id>", api.ExperimentDetailApi.as_view(), name="api-experiment-detail"),
    path(
        "experiments/<uuid:experiment_id>/items",
        api.ExperimentItemsApi.as_view(),
        name="api-experiment-items",
    ),
    path(
        "experiments/<uuid:experiment_id>/cancel",
        api.ExperimentCancelApi.as_view(),
        name="api-experiment-cancel",
    ),
]
