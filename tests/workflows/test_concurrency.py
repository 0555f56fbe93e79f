"""Two saves of the same version, at the same moment, in separate connections: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.factories import UserFactory
from tests.graphs import text_to_debug_graph
from workflows.models import Workflow
from workflows.services import WorkflowVersionConflict, workflow_create, workflow_update


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_of_the_same_version_cannot_both_win():
    alice = UserFactory(email="alice@example.com")
    workflow = workflow_create(owner=alice, name="Shared", nodes=[], edges=[])
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(tab: str) -> None:
        try:
            start.wait(timeout=5)
            workflow_update(
                workflow=Workflow.objects.get(pk=workflow.pk),
                name=tab,
                description="",
                expected_version=1,
                saved_by=alice,
                **text_to_debug_graph(tab),
            )
            outcomes[tab] = "saved"
        except WorkflowVersionConflict as conflict:
            outcomes[tab] = f"conflict at {conflict.current_version}"
        finally:
            connection.close()

    tabs = [threading.Thread(target=save, args=(tab,)) for tab in ("tab one", "tab two")]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=10)

    assert sorted(outcomes.values()) == ["conflict at 2", "saved"]
    winner = next(tab for tab, outcome in outcomes.items() if outcome == "saved")
    workflow.refresh_from_db()
    assert (workflow.name, workflow.version) == (winner, 2)
    assert list(workflow.versions.values_list("number", "name")) == [(2, winner), (1, "Shared")]
