"""The product's URL map plus `GET /bench/bare`, the benchmark's reference (never in the product).

The bare view is the stack's floor: gunicorn, Django's handler and middleware, one trivial query and a
small JSON body.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def bare(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return JsonResponse({"ok": one == 1})


urlpatterns = [
    path("bench/bare", bare),
    path("", include("workflowsite.urls")),
]
