"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.emails import email_lookup_key
from accounts.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def user_find_by_email(*, email: str) -> User | None:
    """The account whose address reads as `email` (by the lookup key), or None."""
    return User.objects.filter(email_key=email_lookup_key(email)).first()
