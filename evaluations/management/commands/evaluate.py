"""`manage.py evaluate <workflow id> <dataset id> [--version N|published|draft] [--evaluators file.json]
[--repeats K] [--concurrency C] [--min-pass-rate 0.9]`: run an experiment and gate on its pass rate.

The experiment is started like one from the API (its runs go through run_start, so the owner's limits and
budgets apply) and its runs execute on the site's workers (or the in-process worker); this command follows
its progress with a bar, prints the aggregates, and exits non-zero when the pass rate is below
`--min-pass-rate` or the experiment did not finish, so a deploy can be gated on it. Without `--evaluators`
the evaluators of the latest experiment of that workflow on that dataset are used again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import engine
from core.errors import DomainError
from evaluations.advancing import experiment_advance
from evaluations.models import Dataset, Experiment, ExperimentStatus
from evaluations.selectors import experiment_summary
from evaluations.services import experiment_spec, experiment_start
from workflows.models import Workflow

_BAR_WIDTH = 30
POLL_SECONDS = 0.5


def _version(value: str) -> int | str:
    if value in ("published", "draft"):
        return value
    try:
        return int(value)
    except ValueError:
        raise CommandError(f"--version: a number, published or draft, not {value!r}") from None


class Command(BaseCommand):
    help = "Run a workflow version over a dataset with evaluators; exit non-zero below --min-pass-rate."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version` names the workflow version here, in place of Django's own (the program's version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workflow", help="The workflow's id.")
        parser.add_argument("dataset", help="The dataset's id (the workflow's owner's).")
        parser.add_argument("--version", default="draft", help="A version number, published or draft.")
        parser.add_argument("--evaluators", help="A JSON file with the list of evaluators.")
        parser.add_argument("--repeats", type=int, default=1)
        parser.add_argument("--concurrency", type=int, default=4)
        parser.add_argument("--min-pass-rate", type=float, default=None, dest="min_pass_rate")
        parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds to wait for the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        workflow = Workflow.objects.select_related("owner").filter(pk=options["workflow"]).first()
        if workflow is None:
            raise CommandError(f"No workflow {options['workflow']}.")
        dataset = Dataset.objects.filter(pk=options["dataset"], owner=workflow.owner).first()
        if dataset is None:
            raise CommandError(f"No dataset {options['dataset']} of the workflow's owner.")
        try:
            spec = experiment_spec(
                owner=workflow.owner,
                workflow=workflow,
                version=_version(options["version"]),
                dataset=dataset,
                evaluators=self._evaluators(options["evaluators"], workflow, dataset),
                repeats=options["repeats"],
                concurrency=options["concurrency"],
            )
        except (DomainError, engine.GraphInvalid) as exc:
            problems = "\n".join(f"  {e['path']}: {e['message']}" for e in getattr(exc, "errors", None) or [])
            raise CommandError(f"{exc}\n{problems}".rstrip()) from exc
        experiment = experiment_start(owner=workflow.owner, spec=spec)
        self.stdout.write(f"Experiment {experiment.pk}: {dataset.row_count} row(s) x {spec.repeats}")
        experiment = self._follow(experiment, timeout=options["timeout"])
        self._report(experiment, options["min_pass_rate"])

    def _evaluators(self, path: str | None, workflow: Workflow, dataset: Dataset) -> list[Any]:
        if path:
            try:
                return json.loads(Path(path).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--evaluators: {exc}") from exc
        latest = Experiment.objects.filter(workflow=workflow, dataset=dataset).order_by("-created_at").first()
        if latest is None:
            raise CommandError("Give --evaluators: no earlier experiment of this workflow on this dataset.")
        return latest.evaluators

    def _follow(self, experiment: Experiment, *, timeout: float) -> Experiment:
        deadline = time.monotonic() + timeout
        while True:
            # Advancing here too is harmless (it is exactly-once) and keeps going if a message was lost.
            experiment_advance(experiment_id=str(experiment.pk))
            experiment.refresh_from_db()
            progress = experiment_summary(experiment=experiment)["progress"]
            done = progress["scored"] + progress["skipped"]
            filled = int(_BAR_WIDTH * done / max(1, progress["total"]))
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done}/{progress['total']}", ending=""
            )
            self.stdout.flush()
            if experiment.status != ExperimentStatus.RUNNING and not progress["running"]:
                self.stdout.write("")
                return experiment
            if time.monotonic() > deadline:
                self.stdout.write("")
                raise CommandError(f"Experiment {experiment.pk} did not finish within {timeout:g} s.")
            time.sleep(POLL_SECONDS)

    def _report(self, experiment: Experiment, min_pass_rate: float | None) -> None:
        aggregates = experiment_summary(experiment=experiment)["aggregates"]
        for name, mean in aggregates["meanScores"].items():
            self.stdout.write(f"  {name}: mean {mean if mean is None else round(mean, 3)}")
        pass_rate = aggregates["passRate"] or 0.0
        self.stdout.write(
            f"  pass rate {pass_rate:.3f}, pass^k {aggregates['passHatK']}, cost {aggregates['totalCost']}, "
            f"p50 {aggregates['durationP50Ms']} ms, p95 {aggregates['durationP95Ms']} ms"
        )
        if experiment.status != ExperimentStatus.SUCCEEDED:
            raise CommandError(
                f"The experiment ended {experiment.status}: {experiment.stop_reason}", returncode=3
            )
        if min_pass_rate is not None and pass_rate < min_pass_rate:
            raise CommandError(f"Pass rate {pass_rate:.3f} is below {min_pass_rate:g}.", returncode=2)
        self.stdout.write(self.style.SUCCESS(f"Experiment {experiment.pk} passed."))
