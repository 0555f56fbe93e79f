"""Dramatiq actors of the evaluations app, and the hooks by which the runs app calls it back."""

from __future__ import annotations

import dramatiq

from evaluations.advancing import FINAL_RUN_STATUSES, experiment_advance, experiments_running
from runs.models import RunTrigger, WorkflowRun

# Experiments the sweeper nudges per sweep (the oldest first); more wait for the next sweeps.
SWEEP_EXPERIMENTS = 100


@dramatiq.actor(max_retries=0)
def advance_experiment(experiment_id: str) -> None:
    experiment_advance(experiment_id=experiment_id)


def experiment_run_ended(run: WorkflowRun) -> None:
    """A run of an experiment has ended: score it and start the next (runs.ending calls this)."""
    if run.trigger == RunTrigger.EVALUATION and run.status in FINAL_RUN_STATUSES and run.trigger_ref:
        advance_experiment.send(run.trigger_ref)


def experiments_sweep() -> None:
    """Every sweep (runs.recovery) advances the unfinished experiments, so that a lost message or a worker
    that died between a run's end and its advance only delays an experiment."""
    for experiment_id in experiments_running(limit=SWEEP_EXPERIMENTS):
        advance_experiment.send(experiment_id)
