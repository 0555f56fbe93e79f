"""Site-wide middleware: request ids, the Content-Security-Policy header and the request body size limit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.api import error_body
from core.logging import request_id_var

# A client may pass its own id so that logs join across services; anything odd is replaced.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Cleared on request_finished, not here: Django logs 4xx/5xx responses after the middleware returns.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs: object) -> None:
    request_id_var.set("-")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class BodySizeLimitMiddleware:
    """Refuse bodies over WEFT_MAX_BODY_BYTES with 413 before anything reads them.

    Multipart uploads have their own, larger limit enforced by the uploads endpoint.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.WEFT_MAX_BODY_BYTES
        if request.content_type == "multipart/form-data":
            # Room for the multipart envelope around the largest allowed file.
            limit = max(limit, settings.UPLOAD_MAX_BYTES + 64 * 1024)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            detail = f"Request body too large: {length} bytes, the limit is {limit} bytes."
            return JsonResponse(error_body(status_code=413, detail=detail), status=413)
        return self.get_response(request)
