"""The authentication backend: allauth's, finding the account by its email lookup key only."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.base_user import AbstractBaseUser

from accounts.selectors import user_find_by_email


class EmailKeyAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (inactive accounts still reach allauth's "account inactive" page), finding the
    account by `email_key` like every other lookup: allauth's own compares lower-cased addresses, so two
    spellings of one address would find different accounts on different login paths."""

    def _authenticate_by_email(self, email: str, password: str) -> AbstractBaseUser | None:
        if not email:
            return None
        return self._check_password(user_find_by_email(email=email), password)
