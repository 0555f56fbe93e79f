"""The authentication backend: allauth's, finding the account by its email lookup key only."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.base_user import AbstractBaseUser

from accounts.emails import email_lookup_key
from accounts.models import User


class EmailKeyAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (inactive accounts still reach allauth's "account inactive" page), but the
    account is found by `email_key`: allauth's own lookup compares the lower-cased address, which a
    look-alike spelling of an existing address passes."""

    def _authenticate_by_email(self, email: str, password: str) -> AbstractBaseUser | None:
        if not email:
            return None
        user = User.objects.filter(email_key=email_lookup_key(email)).first()
        return self._check_password(user, password)
