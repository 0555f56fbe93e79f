"""POST /hooks/<token>: the public end of a webhook (no login; the URL and the signature are the keys)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import engine
from core.api import error_body, error_response
from core.errors import DomainError
from triggers.services import webhook_call
from triggers.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER


def _body_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt  # called by other programs, which have no CSRF token; the secret URL and HMAC stand in
@require_POST
def webhook_call_view(request: HttpRequest, token: str) -> JsonResponse:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    # A chunked body has no Content-Length: read one byte past the limit, never the whole body (request.body
    # would read it all and answer an HTML 400 past DATA_UPLOAD_MAX_MEMORY_SIZE).
    if _body_length(request) > limit or len(body := request.read(limit + 1)) > limit:
        detail = f"The body is over the webhook limit of {limit} bytes."
        return JsonResponse(error_body(status_code=413, detail=detail), status=413)
    try:
        run = webhook_call(
            token=token,
            body=body,
            signature=request.headers.get(SIGNATURE_HEADER),
            timestamp=request.headers.get(TIMESTAMP_HEADER),
        )
    except (DomainError, engine.InputsInvalid, engine.GraphInvalid) as exc:
        # Unknown and disabled hooks are the same NotFound, so the answer never tells that a URL once worked.
        return error_response(exc)
    return JsonResponse({"runId": str(run.pk)}, status=202)
