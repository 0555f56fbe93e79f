"""Files follow their rows: when an Upload row goes (a DELETE, or its owner's deletion), its file goes too."""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from uploads.models import Upload

logger = logging.getLogger(__name__)


def delete_stored_file(key: str) -> None:
    try:
        default_storage.delete(key)
    except Exception:
        # The row is gone, so nobody can reach the file any more; an orphan is logged, not raised.
        logger.exception("could not delete stored upload %s", key)


@receiver(post_delete, sender=Upload)
def _delete_file_after_commit(sender: type[Upload], instance: Upload, **kwargs: Any) -> None:
    # After commit: a rolled-back delete must not lose the file of a row that still exists.
    key = instance.storage_key
    transaction.on_commit(lambda: delete_stored_file(key))
