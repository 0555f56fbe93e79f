"""factory_boy factories for Weft's models."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import User
from tests.graphs import text_to_debug_graph

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Test"
    last_name = "User"
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save(update_fields=["password"])


class WorkflowFactory(factory.django.DjangoModelFactory):
    """A saved workflow with its version 1 snapshot, as workflows.services.workflow_create leaves it."""

    class Meta:
        model = "workflows.Workflow"
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Workflow {n}")
    description = ""
    nodes = factory.LazyFunction(lambda: text_to_debug_graph()["nodes"])
    edges = factory.LazyFunction(lambda: text_to_debug_graph()["edges"])

    @factory.post_generation
    def snapshot(self, create, extracted, **kwargs):
        if create:
            self.versions.create(
                number=self.version,
                name=self.name,
                description=self.description,
                nodes=self.nodes,
                edges=self.edges,
                saved_by=self.owner,
            )


def _run_graph(run) -> dict[str, list]:
    return run.workflow.graph if run.workflow else text_to_debug_graph()


class WorkflowRunFactory(factory.django.DjangoModelFactory):
    """A run of a workflow's graph snapshot (queued unless told otherwise)."""

    class Meta:
        model = "runs.WorkflowRun"

    owner = factory.SubFactory(UserFactory)
    workflow = factory.SubFactory(WorkflowFactory, owner=factory.SelfAttribute("..owner"))
    workflow_version = 1
    nodes = factory.LazyAttribute(lambda run: _run_graph(run)["nodes"])
    edges = factory.LazyAttribute(lambda run: _run_graph(run)["edges"])
    total_nodes = factory.LazyAttribute(lambda run: len(run.nodes))
    # Admitted, as a run is unless its owner's burst holds it back (runs/admission.py).
    admitted_at = factory.LazyFunction(timezone.now)


class NodeResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "runs.NodeResult"

    run = factory.SubFactory(WorkflowRunFactory)
    node_id = factory.Sequence(lambda n: f"node-{n}")
    node_type = "text"
    status = "succeeded"
    output = factory.LazyFunction(lambda: {"text": "hello"})


class ExecutionLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "runs.ExecutionLog"

    run = factory.SubFactory(WorkflowRunFactory)
    level = "info"
    message = factory.Sequence(lambda n: f"log line {n}")
