"""List accounts whose email addresses read the same: `manage.py email_lookalikes` (exit status 1 if any).

Works before and after migration 0002 (it reads only the addresses), so an operator can resolve the groups
that migration would refuse.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.emails import describe_lookalike_groups, lookalike_groups
from accounts.models import User


class Command(BaseCommand):
    help = "List accounts whose email addresses share a lookup key (look-alike spellings)."

    def handle(self, *args: Any, **options: Any) -> None:
        groups = lookalike_groups(User.objects.values_list("pk", "email").iterator())
        if groups:
            raise CommandError(describe_lookalike_groups(groups))
        self.stdout.write("No look-alike email addresses.")
