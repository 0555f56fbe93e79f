"""The tools a token's owner may list: enabled and published only, theirs only, in few queries."""

from __future__ import annotations

import pytest

from accounts.models import User
from mcp_server.selectors import tool_workflow, tools_listed
from mcp_server.services import workflow_tool_set
from tests.factories import WorkflowFactory
from tests.graphs import callable_graph
from workflows.services import workflow_publish, workflow_unpublish

pytestmark = pytest.mark.django_db


def _tool(owner: User, name: str, *, publish: bool = True):
    workflow = WorkflowFactory(owner=owner, name=name, **callable_graph())
    if publish:
        workflow_publish(workflow=workflow)
    workflow_tool_set(workflow=workflow, enabled=True, name=name, description="")
    return workflow


def test_listing_takes_a_fixed_number_of_queries_however_many_tools(alice, django_assert_max_num_queries):
    for index in range(5):
        _tool(alice, f"tool_{index}")

    with django_assert_max_num_queries(2):
        tools = tools_listed(owner=alice)

    assert [tool.name for tool in tools] == [f"tool_{index}" for index in range(5)]


def test_an_unpublished_workflows_tool_is_neither_listed_nor_found(alice, bob):
    workflow = _tool(alice, "write_about")
    workflow_unpublish(workflow=workflow)

    assert tools_listed(owner=alice) == []
    assert tool_workflow(owner=alice, name="write_about") is None


def test_another_users_tool_is_not_found_by_its_name(alice, bob):
    _tool(bob, "write_about")

    assert tool_workflow(owner=alice, name="write_about") is None
    assert tool_workflow(owner=bob, name="write_about").owner == bob
