"""Signed webhook calls: the HMAC-SHA256 scheme of X-Weft-Signature over "<timestamp>.<body>", and the check
that refuses a wrong, stale or replayed call."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.errors import DomainError
from triggers.models import Webhook

SIGNATURE_HEADER = "X-Weft-Signature"
TIMESTAMP_HEADER = "X-Weft-Timestamp"
_SIGNATURE_PREFIX = "sha256="
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_SCHEME = f"sign '<{TIMESTAMP_HEADER}>.<raw body>' into {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256>"


class WebhookSignatureInvalid(DomainError):
    http_status = 401
    code = "signature_invalid"


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Weft-Signature of a call: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with the
    signing secret>. Signing the timestamp is what lets a server refuse an old call sent again."""
    message = timestamp.encode() + b"." + body
    return _SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _signature_seen_key(webhook: Webhook, signature: str) -> str:
    return f"webhook-signature:{webhook.pk}:{signature}"


def webhook_signature_check(
    *, webhook: Webhook, body: bytes, signature: str | None, timestamp: str | None
) -> str | None:
    """The cache key that now marks this signature as used (None for an unsigned webhook).

    Raises WebhookSignatureInvalid for a missing, malformed or stale timestamp, a missing or wrong signature,
    and a signature already accepted within the tolerance window (a replay).
    """
    if not webhook.signing_secret:
        return None
    tolerance = settings.WEBHOOK_TOLERANCE_SECONDS
    if timestamp is None or not _UNIX_SECONDS.fullmatch(timestamp):
        raise WebhookSignatureInvalid(
            f"Missing or malformed {TIMESTAMP_HEADER}: send the Unix time in seconds and {_SCHEME}."
        )
    now = int(timezone.now().timestamp())
    age = now - int(timestamp)
    if abs(age) > tolerance:
        raise WebhookSignatureInvalid(
            f"{TIMESTAMP_HEADER} is {abs(age)} s {'old' if age > 0 else 'ahead'}; it must be within"
            f" {tolerance} s of the server's clock: sign each call when you send it."
        )
    expected = webhook_signature(secret=webhook.signing_secret, timestamp=timestamp, body=body)
    # compare_digest takes as long whatever the first wrong byte, so timing tells nothing.
    if signature is None or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise WebhookSignatureInvalid(f"Missing or wrong {SIGNATURE_HEADER}: {_SCHEME}.")
    # Kept until the timestamp leaves the window, after which the call is refused as stale anyway. `add` only
    # writes an absent key (SET NX on Redis), so of two concurrent replays exactly one gets through.
    key = _signature_seen_key(webhook, expected)
    if not cache.add(key, True, timeout=int(timestamp) + tolerance - now + 1):
        raise WebhookSignatureInvalid(
            f"This {SIGNATURE_HEADER} was already used: sign each call with a new {TIMESTAMP_HEADER}."
        )
    return key
