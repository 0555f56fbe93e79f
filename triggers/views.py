"""POST /hooks/<token>: the public end of a webhook (no login; the URL and the signature are the keys)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import engine
from core.api import error_body
from runs.ratelimit import RunRateLimited
from runs.services import TooManyActiveRuns
from triggers.services import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookBodyInvalid,
    WebhookNotFound,
    WebhookSignatureInvalid,
    webhook_call,
)
from workflows.selectors import WorkflowNotPublished


def _error(status: int, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


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
        return _error(413, f"The body is over the webhook limit of {limit} bytes.")
    try:
        run = webhook_call(
            token=token,
            body=body,
            signature=request.headers.get(SIGNATURE_HEADER),
            timestamp=request.headers.get(TIMESTAMP_HEADER),
        )
    except WebhookNotFound:
        # Unknown and disabled hooks answer alike, so the answer never tells that a URL once worked.
        return _error(404, "Not found.")
    except RunRateLimited as exc:
        return _error(429, str(exc), **{"Retry-After": str(exc.wait)})
    except TooManyActiveRuns as exc:
        return _error(429, str(exc), **{"Retry-After": "5"})
    except WebhookSignatureInvalid as exc:
        return _error(401, str(exc))
    except WebhookBodyInvalid as exc:
        return JsonResponse(
            error_body(detail=str(exc), errors=[{"path": "body", "message": str(exc)}]), status=400
        )
    except engine.InputsInvalid as exc:
        errors = [issue.as_dict() for issue in exc.issues]
        return JsonResponse(error_body(detail=str(exc), errors=errors), status=400)
    except WorkflowNotPublished as exc:
        return _error(409, str(exc))
    return JsonResponse({"runId": str(run.pk)}, status=202)
