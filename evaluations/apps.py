from __future__ import annotations

from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from evaluations.tasks import experiment_run_ended, experiments_sweep
        from runs.ending import run_end_listen
        from runs.recovery import sweep_listen

        # runs cannot import this app: it calls back when an evaluation run ends and on every sweep.
        run_end_listen(experiment_run_ended)
        sweep_listen(experiments_sweep)
