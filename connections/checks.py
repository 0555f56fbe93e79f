"""System checks for the encryption keys: bad keys stop start-up; a derived debug key is a warning."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from connections.crypto import DERIVED_KEY_WARNING, encrypt, encryption_keys


@checks.register(checks.Tags.security)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        encrypt("")
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="connections.E001")]
    if not settings.WEFT_ENCRYPTION_KEYS and encryption_keys():
        return [checks.Warning(DERIVED_KEY_WARNING, id="connections.W001")]
    return []
