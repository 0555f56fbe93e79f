"""Secrets at rest: Fernet tokens under WEFT_ENCRYPTION_KEYS (the first key encrypts, every key decrypts)."""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DERIVED_KEY_WARNING = (
    "WEFT_ENCRYPTION_KEYS is not set: connection secrets are encrypted with a key derived from "
    "DJANGO_SECRET_KEY, which is for local development only."
)


class SecretUnreadable(Exception):
    """A stored token that none of the keys opens (a key was removed before rotating)."""


def encryption_keys() -> tuple[str, ...]:
    if settings.WEFT_ENCRYPTION_KEYS:
        return tuple(settings.WEFT_ENCRYPTION_KEYS)
    # Settings refuse to start without WEFT_ENCRYPTION_KEYS outside debug, so this is debug only.
    digest = hashlib.sha256(b"weft.connections:" + settings.SECRET_KEY.encode()).digest()
    return (base64.urlsafe_b64encode(digest).decode("ascii"),)


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError as exc:
            # The key itself is never repeated in the message.
            raise ImproperlyConfigured(
                f"WEFT_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet key "
                '(32 url-safe base64-encoded bytes; make one with `python -c "from cryptography.fernet '
                'import Fernet; print(Fernet.generate_key().decode())"`)'
            ) from exc
    return MultiFernet(fernets)


def encrypt(plain: str) -> str:
    return _fernet(encryption_keys()).encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet(encryption_keys()).decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("a stored secret cannot be decrypted with WEFT_ENCRYPTION_KEYS") from exc


def reencrypt(token: str) -> str:
    """The same secret under the first key (MultiFernet.rotate)."""
    try:
        return _fernet(encryption_keys()).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise SecretUnreadable("a stored secret cannot be decrypted with WEFT_ENCRYPTION_KEYS") from exc
