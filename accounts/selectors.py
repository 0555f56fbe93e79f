"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.emails import email_lookup_key
from accounts.models import ApiToken, User
from core.errors import get_or_not_found


def api_token_list(*, owner: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(owner=owner).order_by("-created_at")


def api_token_get(*, owner: User, token_id: int) -> ApiToken:
    """The owner's token; anyone else's is a 404."""
    return get_or_not_found(api_token_list(owner=owner), pk=token_id)


def user_find_by_email(*, email: str) -> User | None:
    """The account whose address reads as `email` (by the lookup key), or None."""
    return User.objects.filter(email_key=email_lookup_key(email)).first()
