from django.urls import path

from accounts import api

urlpatterns = [
    path("tokens", api.ApiTokenListCreateApi.as_view(), name="api-token-list"),
    path("tokens/<int:token_id>", api.ApiTokenDetailApi.as_view(), name="api-token-detail"),
]
