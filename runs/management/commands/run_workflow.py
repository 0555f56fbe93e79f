"""`manage.py run_workflow <workflow id | file.json> [--user EMAIL] [--reuse auto|none|all]
[--input NAME=VALUE ...]`: run a workflow in this terminal.

`--input topic="..."` fills a text input; `--input photo=@cat.png` uploads the file (as the run's owner)
for an image input; `photo=https://...` or an upload id work too. The run is recorded like any other
(history, results, logs; trigger `cli`) but executes in this process, printing a progress bar and each
node's status, duration and output, then the outputs by name. Exit code 0 only when the run succeeded.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import engine
from accounts.models import User
from accounts.selectors import user_find_by_email
from runs.driving import run_execute
from runs.models import ReuseMode, RunStatus, RunTrigger
from runs.selectors import run_outputs
from runs.services import TooManyActiveRuns, run_create
from uploads.images import ImageRejected
from uploads.services import upload_create
from workflows.models import Workflow

_OUTPUT_CHARS = 200
_BAR_WIDTH = 24


class Command(BaseCommand):
    help = "Run a saved workflow (by id) or a workflow file (JSON export or {nodes, edges}) in the terminal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workflow", help="A workflow id, or the path of a .json workflow file.")
        parser.add_argument("--user", help="The email of the user the run belongs to (default: the owner).")
        parser.add_argument(
            "--reuse",
            choices=ReuseMode.values,
            default=ReuseMode.AUTO,
            help="Which earlier results with a matching content key stand in for running a node.",
        )
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A value for an Input node; NAME=@path uploads an image file. Repeat for each input.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workflow, graph, user = self._load(options["workflow"], options["user"])
        inputs = self._inputs(options["input"], user)
        try:
            run = run_create(
                owner=user,
                graph=graph,
                workflow=workflow,
                workflow_version=workflow.version if workflow else None,
                reuse=options["reuse"],
                inputs=inputs,
                trigger=RunTrigger.CLI,
                enqueue=False,
            )
        except (engine.GraphInvalid, engine.InputsInvalid) as exc:
            what = "inputs are" if isinstance(exc, engine.InputsInvalid) else "workflow graph is"
            lines = "\n".join(f"  {issue.path}: {issue.message}" for issue in exc.issues)
            raise CommandError(f"The {what} invalid:\n{lines}") from exc
        except TooManyActiveRuns as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Run {run.id}: {len(graph['nodes'])} node(s)")
        self._total = run.total_nodes
        self._done = 0
        self._streaming: str | None = None  # the node whose answer is being printed on the open line
        finished = run_execute(run_id=str(run.id), listener=self._on_event)
        if finished is None:
            raise CommandError(f"Run {run.id} was taken over by another process.")
        summary = f"Run {finished.status} in {finished.duration_ms} ms"
        if finished.error_summary:
            summary += f": {finished.error_summary}"
        outputs = run_outputs(run=finished)
        for name, value in outputs.items():
            self.stdout.write(f"output {name}: {json.dumps(value, ensure_ascii=False)}")
        if finished.status != RunStatus.SUCCEEDED:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

    def _inputs(self, pairs: list[str], user: User) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise CommandError(f"--input {pair!r}: write NAME=VALUE (or NAME=@file for an image).")
            if value.startswith("@"):
                path = Path(value[1:])
                try:
                    upload = upload_create(owner=user, data=path.read_bytes(), filename=path.name)
                except OSError as exc:
                    raise CommandError(f"--input {name}: cannot read {path}: {exc}") from exc
                except ImageRejected as exc:
                    raise CommandError(f"--input {name}: {exc.message}") from exc
                value = str(upload.pk)
            inputs[name] = value
        return inputs

    def _load(self, target: str, email: str | None) -> tuple[Workflow | None, dict[str, Any], User]:
        user = None
        if email:
            user = user_find_by_email(email=email)
            if user is None:
                raise CommandError(f"No user with email {email!r}.")
        path = Path(target)
        if path.suffix == ".json" or path.is_file():
            if user is None:
                raise CommandError("Running a workflow file needs --user EMAIL.")
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read {target}: {exc}") from exc
            if not isinstance(data, dict):
                raise CommandError(f"{target} must hold a JSON object with nodes and edges.")
            return None, {"nodes": data.get("nodes", []), "edges": data.get("edges", [])}, user
        try:
            workflow_id = uuid.UUID(target)
        except ValueError as exc:
            raise CommandError(f"{target!r} is neither a workflow id nor a .json file.") from exc
        workflows = Workflow.objects.select_related("owner")
        if user is not None:
            workflows = workflows.filter(owner=user)
        workflow = workflows.filter(pk=workflow_id).first()
        if workflow is None:
            raise CommandError(f"No workflow {target}" + (f" owned by {email}." if email else "."))
        return workflow, workflow.graph, user or workflow.owner

    def _end_streamed_line(self) -> None:
        if self._streaming is not None:
            self.stdout.write("")
            self._streaming = None

    def _on_event(self, event: engine.Event) -> None:
        if isinstance(event, engine.NodeToken):
            # Answers print as they are generated; interleaving concurrent nodes each start a new line.
            if self._streaming != event.node_id:
                self._end_streamed_line()
                self.stdout.write(f"    {event.node_id} > ", ending="")
                self._streaming = event.node_id
            self.stdout.write(event.text, ending="")
            self.stdout.flush()
            return
        self._end_streamed_line()
        if isinstance(event, engine.RunStarted):
            self._total = len(event.node_ids)
        elif isinstance(event, engine.NodeTokensReset):
            self.stdout.write(f"    {event.node_id}: partial answer discarded, starting over")
        elif isinstance(event, engine.NodeFinished):
            self._done += 1
            result = event.result
            filled = round(_BAR_WIDTH * self._done / max(self._total, 1))
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            status = result.status.value
            style = self.style.SUCCESS if status in ("succeeded", "reused") else self.style.ERROR
            line = f"[{bar}] {self._done}/{self._total} {result.node_id} ({result.node_type}) "
            line += style(status) + f" {result.duration_ms if result.duration_ms is not None else '-'} ms"
            self.stdout.write(line)
            if result.output is not None:
                text = json.dumps(result.as_dict()["output"], ensure_ascii=False)
                if len(text) > _OUTPUT_CHARS:
                    text = text[: _OUTPUT_CHARS - 1] + "…"
                self.stdout.write(f"    output: {text}")
            if result.error_message:
                self.stdout.write(f"    error: {result.error_kind}: {result.error_message}")
        elif isinstance(event, engine.LogLine) and event.level in ("warning", "error"):
            self.stderr.write(f"    {event.level}: {event.message}")
