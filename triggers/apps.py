from __future__ import annotations

from django.apps import AppConfig


class TriggersConfig(AppConfig):
    name = "triggers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from triggers.scheduler import inprocess_scheduler_ensure

        # With the in-process worker (`make run`, no broker) the serving process ticks the schedules too,
        # so they work on a fresh machine without `runscheduler`.
        inprocess_scheduler_ensure()
