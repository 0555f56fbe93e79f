"""What follows the deletion of a user, however it happens (admin, shell, a cascade), and what keeps
cached API tokens true: a deleted token or a changed user is read afresh."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken, User
from accounts.services import api_token_forget
from core.cache import owner_caches_invalidate


@receiver(post_delete, sender=User, dispatch_uid="accounts.user_caches_invalidate")
def user_caches_invalidate(sender: type[User], instance: User, **kwargs: Any) -> None:
    # Their workflows and runs are gone with them; so must be every cached view of those.
    owner_caches_invalidate(owner_id=instance.pk)


@receiver(post_delete, sender=ApiToken, dispatch_uid="accounts.api_token_forget_deleted")
def _forget_deleted_token(sender: type[ApiToken], instance: ApiToken, **kwargs: Any) -> None:
    api_token_forget(digests=[instance.digest])


@receiver(post_save, sender=User, dispatch_uid="accounts.api_token_forget_changed_user")
def _forget_tokens_of_changed_user(sender: type[User], instance: User, **kwargs: Any) -> None:
    # A deactivated (or otherwise changed) user must not be served from a cached token.
    if not kwargs.get("created"):
        digests = ApiToken.objects.filter(owner=instance).values_list("digest", flat=True)
        api_token_forget(digests=list(digests))
