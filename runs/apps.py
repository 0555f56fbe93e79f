from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.engine_config import price_table
        from core.metrics import scrape_collector_register
        from runs.metrics import RunStatesCollector
        from runs.worker import inprocess_worker_ensure, is_serving_process

        # A price file that does not parse stops start-up with its name and line, not the first run.
        price_table()
        scrape_collector_register(RunStatesCollector())
        # Only the serving process gets the in-process worker: not migrate, not runserver's reloader.
        if is_serving_process():
            inprocess_worker_ensure()
