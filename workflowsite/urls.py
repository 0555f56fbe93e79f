"""Weft's URL map: pages, the REST API under /api, the OpenAPI schema, admin and accounts."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from workflowsite.health import HealthApi

api_patterns = [
    path("health", HealthApi.as_view(), name="api-health"),
    path("", include("accounts.urls")),
    path("", include("workflows.urls")),
    path("", include("runs.urls")),
    path("", include("uploads.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its initialiser as a script file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("workflowsite.pages")),
]

handler404 = "workflowsite.api.not_found"
handler500 = "workflowsite.api.internal_error"
