from django.urls import path

from connections import api

urlpatterns = [
    path("models", api.ModelListApi.as_view(), name="api-model-list"),
    path("connections", api.ConnectionListCreateApi.as_view(), name="api-connection-list"),
    path("connections/<uuid:connection_id>", api.ConnectionDetailApi.as_view(), name="api-connection-detail"),
    path(
        "connections/<uuid:connection_id>/test", api.ConnectionTestApi.as_view(), name="api-connection-test"
    ),
    path(
        "connections/<uuid:connection_id>/models",
        api.ConnectionModelsApi.as_view(),
        name="api-connection-models",
    ),
    path(
        "connections/<uuid:connection_id>/tools",
        api.ConnectionToolsApi.as_view(),
        name="api-connection-tools",
    ),
]
