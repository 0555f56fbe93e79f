"""Writes for workflows. Each one validates the graph, records the version snapshot and drops the caches."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.cache import owner_caches_invalidate
from core.engine_config import graph_limits
from core.errors import DomainError, NotFound
from engine import GraphInvalid, validate_graph
from engine.kinds.llm import upgrade_model_fields
from uploads.services import graph_upload_issues
from workflows.callees import UNSAVED_GRAPH, Caller, graph_callees_resolve, workflow_caller
from workflows.gallery import TEMPLATES_BY_SLUG
from workflows.models import Workflow, WorkflowVersion
from workflows.signals import publication_changed

_NAME_MAX = Workflow._meta.get_field("name").max_length
_COPY_SUFFIX = " (copy)"


class WorkflowVersionConflict(DomainError):
    """The client edited a version that is no longer the current one."""

    http_status = 409
    code = "version_conflict"

    def __init__(self, *, current_version: int, edited_version: int) -> None:
        super().__init__(
            f"The workflow was saved as version {current_version} since version {edited_version}, which you "
            "edited.",
            currentVersion=current_version,
        )
        self.current_version = current_version


def graph_validate(
    *,
    owner: User,
    nodes: list[Any],
    edges: list[Any],
    notes: list[Any] | None = None,
    groups: list[Any] | None = None,
    caller: Caller = UNSAVED_GRAPH,
) -> list[Any]:
    """The nodes with their callees resolved (Sub-workflow and Map ports follow them); raise
    engine.GraphInvalid (every issue, each with its path) unless the graph is a valid draft.

    A half-drawn workflow may be saved, as in n8n: whether every node is ready to run (required inputs
    connected, an image chosen) is checked when it is executed. Image nodes may only name the owner's
    own uploads. A workflow (`caller`) that calls itself, directly or through others, is refused. Notes and
    groups are checked with the rest (engine/annotations.py).
    """
    nodes = upgrade_model_fields(nodes) if isinstance(nodes, list) else nodes
    drawn = {"notes": notes or [], "groups": groups or []}
    graph, issues = graph_callees_resolve(
        owner=owner, graph={"nodes": nodes, "edges": edges, **drawn}, caller=caller, for_run=False
    )
    if not issues:
        issues = validate_graph(graph, limits=graph_limits(), complete=False)
    issues += graph_upload_issues(owner=owner, graph=graph)
    if issues:
        raise GraphInvalid(issues)
    return graph["nodes"]


def _content(source: Workflow | WorkflowVersion) -> dict[str, Any]:
    """What a version saves of a workflow (and restores from a version): name, description and graph."""
    return {
        "name": source.name,
        "description": source.description,
        "nodes": source.nodes,
        "edges": source.edges,
        "notes": source.notes,
        "groups": source.groups,
    }


def _snapshot(workflow: Workflow, *, saved_by: User | None, note: str = "") -> WorkflowVersion:
    return WorkflowVersion.objects.create(
        workflow=workflow, number=workflow.version, saved_by=saved_by, note=note, **_content(workflow)
    )


@transaction.atomic
def workflow_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    nodes: list[Any],
    edges: list[Any],
    notes: list[Any] | None = None,
    groups: list[Any] | None = None,
) -> Workflow:
    notes, groups = notes or [], groups or []
    nodes = graph_validate(owner=owner, nodes=nodes, edges=edges, notes=notes, groups=groups)
    workflow = Workflow.objects.create(
        owner=owner, name=name, description=description, nodes=nodes, edges=edges, notes=notes, groups=groups
    )
    _snapshot(workflow, saved_by=owner)
    owner_caches_invalidate(owner_id=owner.pk)
    return workflow


def _save_new_version(
    workflow: Workflow,
    *,
    expected_version: int,
    name: str,
    description: str,
    nodes: list[Any],
    edges: list[Any],
    notes: list[Any],
    groups: list[Any],
    saved_by: User,
    note: str = "",
) -> Workflow:
    # A conditional UPDATE: of two saves of the same version, the database lets exactly one match.
    updated = Workflow.objects.filter(pk=workflow.pk, version=expected_version).update(
        name=name,
        description=description,
        nodes=nodes,
        edges=edges,
        notes=notes,
        groups=groups,
        version=expected_version + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        current = Workflow.objects.filter(pk=workflow.pk).values_list("version", flat=True).first()
        if current is None:  # deleted by a concurrent request
            raise NotFound("No Workflow matches the given query.")
        raise WorkflowVersionConflict(current_version=current, edited_version=expected_version)
    workflow.refresh_from_db()
    _snapshot(workflow, saved_by=saved_by, note=note)
    owner_caches_invalidate(owner_id=workflow.owner_id)
    return workflow


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    name: str,
    description: str,
    nodes: list[Any],
    edges: list[Any],
    notes: list[Any] | None = None,
    groups: list[Any] | None = None,
    expected_version: int,
    saved_by: User,
    note: str = "",
) -> Workflow:
    """Replace name, description and graph, as version `expected_version + 1`, noted with `note`. Notes and
    groups left out (None) are kept, groups without the nodes this save removes.

    Raises WorkflowVersionConflict when `expected_version` is not the current version, so two editors
    of the same version never silently overwrite each other.
    """
    if notes is None:
        notes = workflow.notes
    if groups is None:
        groups = _groups_of_kept_nodes(workflow.groups, nodes)
    nodes = graph_validate(
        owner=workflow.owner,
        nodes=nodes,
        edges=edges,
        notes=notes,
        groups=groups,
        caller=workflow_caller(workflow),
    )
    return _save_new_version(
        workflow,
        expected_version=expected_version,
        name=name,
        description=description,
        nodes=nodes,
        edges=edges,
        notes=notes,
        groups=groups,
        saved_by=saved_by,
        note=note,
    )


def _groups_of_kept_nodes(groups: list[Any], nodes: list[Any]) -> list[Any]:
    """`groups` without the nodes missing from `nodes`, and without the groups left empty."""
    kept = {node.get("id") for node in nodes if isinstance(node, dict)}
    pruned = ({**group, "nodes": [n for n in group["nodes"] if n in kept]} for group in groups)
    return [group for group in pruned if group["nodes"]]


@transaction.atomic
def workflow_restore_version(*, workflow: Workflow, version: WorkflowVersion, saved_by: User) -> Workflow:
    """Save a new version equal to `version`; the versions in between stay in the history."""
    if version.workflow_id != workflow.pk:
        raise ValueError("the version belongs to another workflow")
    nodes = graph_validate(
        owner=workflow.owner,
        nodes=version.nodes,
        edges=version.edges,
        notes=version.notes,
        groups=version.groups,
        caller=workflow_caller(workflow),
    )
    # Restoring is not an edit of a particular version, so it follows the latest one under a row lock.
    current = Workflow.objects.select_for_update().get(pk=workflow.pk)
    # The callees as resolved now: the restored draft's Sub-workflow ports follow them.
    content = {**_content(version), "nodes": nodes}
    note = f"Restored version {version.number}"
    return _save_new_version(
        current, expected_version=current.version, saved_by=saved_by, note=note, **content
    )


@transaction.atomic
def workflow_delete(*, workflow: Workflow) -> None:
    """Delete the workflow and its versions; its runs keep their graph snapshots (workflow set to null)."""
    owner_id = workflow.owner_id
    workflow.delete()
    owner_caches_invalidate(owner_id=owner_id)
    _publication_changed(owner_id=owner_id)


@transaction.atomic
def workflow_publish(*, workflow: Workflow, version: int | None = None) -> Workflow:
    """Pin `version` (default: the current one) as what API, webhook and schedule runs execute.

    The version must be ready to run (validated fully, unlike a draft save), so that integrations never
    start a run that cannot work. Raises engine.GraphInvalid, or NotFound for a version that does not exist.
    """
    current = Workflow.objects.select_for_update().get(pk=workflow.pk)
    number = current.version if version is None else version
    snapshot = WorkflowVersion.objects.filter(workflow=current, number=number).first()
    if snapshot is None:
        raise NotFound("No such version.")
    graph, issues = graph_callees_resolve(
        owner=current.owner, graph=snapshot.graph, caller=workflow_caller(current), for_run=True
    )
    if not issues:
        issues = validate_graph(graph, limits=graph_limits())
    issues += graph_upload_issues(owner=current.owner, graph=graph)
    if issues:
        raise GraphInvalid(issues)
    Workflow.objects.filter(pk=current.pk).update(is_published=True, published_version=number)
    workflow.is_published, workflow.published_version = True, number
    owner_caches_invalidate(owner_id=workflow.owner_id)
    _publication_changed(owner_id=workflow.owner_id)
    return workflow


@transaction.atomic
def workflow_unpublish(*, workflow: Workflow) -> Workflow:
    """Stop API, webhook and schedule runs of the workflow (they answer 409 until it is published again)."""
    Workflow.objects.filter(pk=workflow.pk).update(is_published=False, published_version=None)
    workflow.is_published, workflow.published_version = False, None
    owner_caches_invalidate(owner_id=workflow.owner_id)
    _publication_changed(owner_id=workflow.owner_id)
    return workflow


def _publication_changed(*, owner_id: int) -> None:
    transaction.on_commit(
        lambda: publication_changed.send_robust(sender=Workflow, owner_id=owner_id), robust=True
    )


def _copy_name(name: str) -> str:
    return name[: _NAME_MAX - len(_COPY_SUFFIX)] + _COPY_SUFFIX


def workflow_duplicate(*, workflow: Workflow) -> Workflow:
    """A new workflow of the same owner with the current graph, at version 1, unpublished, without runs."""
    return workflow_create(
        owner=workflow.owner,
        name=_copy_name(workflow.name),
        description=workflow.description,
        nodes=workflow.nodes,
        edges=workflow.edges,
        notes=workflow.notes,
        groups=workflow.groups,
    )


@transaction.atomic
def workflow_create_from_template(*, owner: User, slug: str) -> Workflow:
    """A copy of gallery template `slug` in the owner's list (its helper workflow first, if it calls one).

    Raises NotFound for a slug the gallery does not have.
    """
    template = TEMPLATES_BY_SLUG.get(slug)
    if template is None:
        raise NotFound("No such template.")
    helper_id = None
    if template.helper is not None:
        helper = workflow_create(
            owner=owner,
            name=template.helper.name,
            description=template.helper.description,
            **template.helper.build(None),
        )
        helper_id = str(helper.pk)
    return workflow_create(
        owner=owner, name=template.name, description=template.description, **template.build(helper_id)
    )
