"""Weft's URL map: pages, the REST API under /api, the OpenAPI schema, admin and accounts."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.forms import ThrottledAuthenticationForm
from core.metrics import metrics_view
from triggers.urls import hook_urlpatterns
from workflowsite.health import HealthApi

api_patterns = [
    path("health", HealthApi.as_view(), name="api-health"),
    path("", include("accounts.urls")),
    path("", include("connections.urls")),
    path("", include("workflows.urls")),
    path("", include("runs.urls")),
    path("", include("uploads.urls")),
    path("", include("triggers.urls")),
    path("", include("mcp_server.urls")),
    path("", include("evaluations.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its initialiser as a script file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# rest_framework.urls, with a login form that counts failed passwords with allauth's limits.
browsable_api_auth_patterns = (
    [
        path(
            "login/",
            auth_views.LoginView.as_view(
                template_name="rest_framework/login.html", authentication_form=ThrottledAuthenticationForm
            ),
            name="login",
        ),
        path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    ],
    "rest_framework",
)

urlpatterns = [
    path("api/", include(api_patterns)),
    path("metrics", metrics_view, name="metrics"),
    *hook_urlpatterns,
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api-auth/", include(browsable_api_auth_patterns)),
    path("", include("workflowsite.pages")),
]

handler400 = "core.api.bad_request_error"
handler404 = "core.api.not_found"
handler500 = "core.api.internal_error"
