"""`manage.py recover_runs`: one sweep for stale runs (workers do this on a timer; cron can too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from runs.recovery import runs_recover_stale


class Command(BaseCommand):
    help = "Re-enqueue runs whose worker died, fail those that died too often, re-send lost queued runs."

    def handle(self, *args: Any, **options: Any) -> None:
        report = runs_recover_stale()
        self.stdout.write(
            f"requeued {report.requeued}, failed {report.failed}, cancelled {report.cancelled}, "
            f"resent {report.resent}"
        )
