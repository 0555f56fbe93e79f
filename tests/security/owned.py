"""One object of every user-owned kind, for the ownership, limit and fuzz tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from accounts.services import api_token_create
from connections.models import Connection
from evaluations.models import Dataset, DatasetRow, Experiment, ExperimentItem
from runs.models import Approval, RunStatus, WorkflowRun
from runs.notifications import approval_link_url
from tests.factories import NodeResultFactory, WorkflowRunFactory
from tests.files import image_bytes
from tests.graphs import text_to_debug_graph
from triggers.models import Schedule, Webhook
from triggers.services import schedule_create, webhook_create
from uploads.models import Upload
from uploads.services import upload_create
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_publish


@dataclass(frozen=True)
class Owned:
    """One object of every user-owned kind, all alice's; the URL kwargs that name them."""

    workflow: Workflow
    run: WorkflowRun
    upload: Upload
    token_id: int
    token_secret: str
    webhook: Webhook
    webhook_token: str
    schedule: Schedule
    approval_link: str
    connection: Connection
    dataset: Dataset
    experiment: Experiment

    @property
    def url_kwargs(self) -> dict[str, object]:
        return {
            "workflow_id": self.workflow.pk,
            "number": 1,
            "run_id": self.run.pk,
            "node_id": "text-1",
            "upload_id": self.upload.pk,
            "token_id": self.token_id,
            "webhook_id": self.webhook.pk,
            "schedule_id": self.schedule.pk,
            "token": self.webhook_token,
            "link": self.approval_link,
            "connection_id": self.connection.pk,
            "dataset_id": self.dataset.pk,
            "experiment_id": self.experiment.pk,
        }

    @property
    def markers(self) -> list[str]:
        """Strings that only appear in a response that leaks one of these objects."""
        return [
            str(self.workflow.pk),
            str(self.run.pk),
            str(self.upload.pk),
            self.token_secret[:11],
            str(self.webhook.pk),
            self.webhook_token,
            str(self.schedule.pk),
            str(self.connection.pk),
            CONNECTION_SECRET,
            str(self.dataset.pk),
            str(self.experiment.pk),
        ]


CONNECTION_SECRET = "sk-alice-private-key-0123456789"


def _connection(user) -> Connection:
    """An OpenAI-compatible connection whose URL (loopback) is refused at call time: its test answers
    without leaving the machine."""
    # make_owned runs again once the fuzzer has deleted one of them: a new slug each time.
    slug = f"alice-llm-{uuid.uuid4().hex[:8]}"
    connection = Connection(owner=user, name="Alice's LLM", slug=slug, kind="openai")
    connection.base_url = "http://127.0.0.1:9/v1"
    connection.set_secret(CONNECTION_SECRET)
    connection.save()
    return connection


def _experiment(user, workflow: Workflow) -> Experiment:
    """A running experiment of the workflow on a one-row dataset, its row not started yet."""
    dataset = Dataset.objects.create(owner=user, name="Alice's cases", row_count=1)
    row = DatasetRow.objects.create(dataset=dataset, index=0, inputs={}, expected={"answer": "hello"})
    experiment = Experiment.objects.create(
        owner=user,
        workflow=workflow,
        workflow_version=workflow.version,
        version_label=str(workflow.version),
        nodes=workflow.nodes,
        edges=workflow.edges,
        dataset=dataset,
        evaluators=[{"name": "right", "type": "exact", "output": "answer"}],
    )
    ExperimentItem.objects.create(experiment=experiment, row=row, row_index=0, repeat=0)
    return experiment


def make_owned(user) -> Owned:
    """A published workflow, a queued run of it (with an approval asked), an upload, an API token, an
    unsigned webhook, a schedule, a connection and an experiment on a dataset, all belonging to `user`."""
    workflow = workflow_publish(
        workflow=workflow_create(owner=user, name="Alice's private flow", **text_to_debug_graph())
    )
    # Queued, so that cancel has something to cancel; rerun copies its snapshot.
    run = WorkflowRunFactory(owner=user, workflow=workflow, status=RunStatus.QUEUED)
    # A result from an earlier attempt (a recovered run keeps its succeeded nodes), for the output download.
    NodeResultFactory(run=run, node_id="text-1", output={"text": "hello"})
    upload = upload_create(owner=user, data=image_bytes(size=(8, 8)), filename="alice.png")
    issued = api_token_create(owner=user, name="alice-laptop")
    hook = webhook_create(owner=user, workflow=workflow, name="alice hook", signed=False)
    # Asked by a node the decide route does not name, so that deciding there stays a 404.
    approval = Approval.objects.create(
        run=run,
        owner=user,
        node_id="review",
        on_timeout="reject",
        deadline=timezone.now() + timedelta(days=1),
    )
    return Owned(
        workflow=workflow,
        run=run,
        upload=upload,
        token_id=issued.token.pk,
        token_secret=issued.secret,
        webhook=hook.webhook,
        webhook_token=hook.token,
        schedule=schedule_create(owner=user, workflow=workflow, cron="0 9 * * *"),
        approval_link=approval_link_url(approval).rsplit("/", 2)[-2],
        connection=_connection(user),
        dataset=(experiment := _experiment(user, workflow)).dataset,
        experiment=experiment,
    )
