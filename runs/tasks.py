"""Dramatiq actors of the runs app. They take a run id and call the service; all logic lives there."""

from __future__ import annotations

import dramatiq
from django.conf import settings

from runs.admission import runs_release
from runs.driving import run_execute
from runs.ending import run_ended

# Recovery is the sweeper's job (runs.recovery.runs_recover_stale), not Dramatiq's retries: a retried
# message would race the sweeper's. The time limit backs up the engine's own run timeout.
RUN_ACTOR_TIME_LIMIT_MS = int((settings.RUN_TIMEOUT_SECONDS + 120) * 1000)


@dramatiq.actor(max_retries=0, time_limit=RUN_ACTOR_TIME_LIMIT_MS)
def execute_run(run_id: str) -> None:
    run = run_execute(run_id=run_id)
    if run is not None:  # it ended, or waits for a person: its place goes to the owner's next held run
        runs_release(owner_id=run.owner_id, actor=execute_run)
        if run.is_finished:
            run_ended(run)
