"""Writes for accounts: API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User
from core.cache import owner_entry_prefetch, owner_entry_prefetch_drop
from core.errors import DomainError

TOKEN_PREFIX = "weft_"  # noqa: S105 -- a public marker, not a secret
# Writing last_used_at on every request would turn each API call into a write; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token and its user are kept in the cache between requests: the ORM query behind a token costs several
# times a whole bare request. Revoking a token, deleting it or saving its user drops the entry at once
# (accounts.signals); a bulk `update()` on users, which sends no signal, is caught within this bound.
API_TOKEN_CACHE_SECONDS = 60


class TooManyApiTokens(DomainError):
    code = "too_many_api_tokens"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, owner: User, name: str) -> IssuedToken:
    # Serialise one user's creations so that two requests cannot both slip under the cap.
    User.objects.select_for_update().filter(pk=owner.pk).exists()
    if ApiToken.objects.filter(owner=owner).count() >= settings.API_TOKENS_MAX_PER_USER:
        raise TooManyApiTokens(
            f"You already have {settings.API_TOKENS_MAX_PER_USER} API tokens; revoke one to create another."
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=owner, name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], digest=token_digest(secret)
    )
    return IssuedToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()  # the post_delete receiver drops its cache entry


def api_token_cache_key(digest: str) -> str:
    return f"apitoken:{digest}"


def _api_token_owner_cache_key(digest: str) -> str:
    # Beside the token, its owner's id in plain form: Redis can read it to find the owner's cached entries
    # in the same round trip (core.cache.owner_entry_prefetch).
    return f"apitoken:{digest}:owner"


def api_token_forget(*, digests: list[str]) -> None:
    """Drop cached tokens, so that the next request with them reads the database."""
    keys = [api_token_cache_key(digest) for digest in digests]
    keys += [_api_token_owner_cache_key(digest) for digest in digests]
    cache.delete_many(keys)


def _api_token_remember(token: ApiToken) -> None:
    cache.set_many(
        {api_token_cache_key(token.digest): token, _api_token_owner_cache_key(token.digest): token.owner_id},
        timeout=API_TOKEN_CACHE_SECONDS,
    )


def api_token_authenticate(*, secret: str, entry_parts: tuple[object, ...] = ()) -> ApiToken | None:
    """The live token with this secret (its owner loaded), or None.

    `entry_parts` name the owner's cached entry the request will read (core.cache.owner_cache_key): on
    Redis it comes back in the same round trip as a cached token, for `owner_cached` to serve once the
    token is known to be the owner's.
    """
    if not secret.startswith(TOKEN_PREFIX):
        return None
    digest = token_digest(secret)
    token, prefetched_for = owner_entry_prefetch(
        credential_key=api_token_cache_key(digest),
        owner_key=_api_token_owner_cache_key(digest),
        entry_parts=entry_parts,
    )
    if not isinstance(token, ApiToken) or prefetched_for not in (None, token.owner_id):
        owner_entry_prefetch_drop()
        token = ApiToken.objects.select_related("owner").filter(digest=digest, owner__is_active=True).first()
        if token is None:
            return None
        _api_token_remember(token)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        _api_token_remember(token)
    return token
