"""Re-encrypt every connection secret under the first of WEFT_ENCRYPTION_KEYS (after adding a new key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from connections.services import connections_rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored connection secret under the first WEFT_ENCRYPTION_KEYS key; afterwards the "
        "other keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = connections_rotate_keys()
        self.stdout.write(f"Re-encrypted {rotated} connection(s) under the first key.")
