"""Reads for workflows, always scoped to their owner; the API's payloads come cached from here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, IntegerField, Q, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from accounts.models import User
from core.errors import NotFound, RunRefused, get_or_not_found
from core.pagination import Page
from engine.diff import graph_diff
from workflows import cache
from workflows.gallery import TEMPLATES
from workflows.models import Workflow, WorkflowVersion
from workflows.serializers import MAX_VERSION_NUMBER, WorkflowListItemSerializer, WorkflowSerializer


class WorkflowNotPublished(RunRefused):
    """API, webhook and schedule runs need a published version, and the workflow has none."""

    http_status = 409
    code = "not_published"

    def __init__(self, workflow: Workflow) -> None:
        super().__init__(
            f"The workflow {workflow.name!r} is not published: publish a version "
            f"(POST /api/workflows/{workflow.pk}/publish) before running it through the API, a webhook "
            "or a schedule."
        )


class JsonArrayLength(Func):
    """The length of a JSON array column, computed by the database so lists need not load graphs."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Sequence[Any]]:
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra_context)


def workflow_list(*, owner: User, search: str = "") -> QuerySet[Workflow]:
    """The owner's workflows, newest first, with run and node counts and without their graphs."""
    queryset = Workflow.objects.filter(owner=owner)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
    queryset = queryset.annotate(node_count=JsonArrayLength("nodes"))
    return queryset.defer("nodes", "edges", "notes", "groups").order_by("-created_at", "-pk")


def workflow_get(*, owner: User, workflow_id: UUID | str) -> Workflow:
    """The owner's workflow (for writes); anyone else's is a 404."""
    return get_or_not_found(Workflow.objects.filter(owner=owner), pk=workflow_id)


def workflow_template_list() -> list[dict[str, Any]]:
    """The template gallery, the same for everyone (it names no user's objects)."""
    return [template.summary() for template in TEMPLATES]


def workflow_list_page(*, owner: User, page: Page, search: str = "") -> dict[str, Any]:
    """`{"count", "results"}` for one page of the owner's list, cached."""

    def compute() -> dict[str, Any]:
        return page.payload(workflow_list(owner=owner, search=search), WorkflowListItemSerializer)

    variant = f"{page.number}|{page.limit}|{search}"
    return cache.workflow_list_cached(owner_id=owner.pk, variant=variant, compute=compute)


def workflow_detail(*, owner: User, workflow_id: UUID | str) -> dict[str, Any]:
    """The serialized workflow with its graph and run summary, cached; anyone else's is a 404."""

    def compute() -> dict[str, Any]:
        return dict(WorkflowSerializer(workflow_get(owner=owner, workflow_id=workflow_id)).data)

    return cache.workflow_detail_cached(owner_id=owner.pk, workflow_id=workflow_id, compute=compute)


def workflow_version_list(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return (
        WorkflowVersion.objects.filter(workflow=workflow)
        .select_related("saved_by")
        .defer("nodes", "edges", "notes", "groups", "description")
        .order_by("-number")
    )


def workflow_version_get(*, workflow: Workflow, number: int) -> WorkflowVersion:
    """One saved version; a number no version can have (past the database's integer) is a 404 unasked."""
    if not 1 <= number <= MAX_VERSION_NUMBER:
        raise NotFound("No such version.")
    return get_or_not_found(
        WorkflowVersion.objects.select_related("saved_by"), workflow=workflow, number=number
    )


def workflow_versions_diff(*, workflow: Workflow, old: int, new: int) -> dict[str, Any]:
    """What changed from version `old` to version `new` of the workflow (engine.graph_diff)."""
    before = workflow_version_get(workflow=workflow, number=old)
    after = workflow_version_get(workflow=workflow, number=new)
    return {"from": old, "to": new, **graph_diff(before.drawing, after.drawing)}


def workflow_published_version(*, workflow: Workflow) -> WorkflowVersion:
    """The version integrations run; WorkflowNotPublished when the workflow is not published."""
    if workflow.published_version is None:
        raise WorkflowNotPublished(workflow)
    return WorkflowVersion.objects.get(workflow=workflow, number=workflow.published_version)
