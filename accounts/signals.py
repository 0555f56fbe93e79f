"""What follows the deletion of a user, however it happens (admin, shell, a cascade)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import User
from workflowsite.cache import owner_caches_invalidate


@receiver(post_delete, sender=User, dispatch_uid="accounts.user_caches_invalidate")
def user_caches_invalidate(sender: type[User], instance: User, **kwargs: Any) -> None:
    # Their workflows and runs are gone with them; so must be every cached view of those.
    owner_caches_invalidate(owner_id=instance.pk)
