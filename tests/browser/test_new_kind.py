"""A kind the editor has never seen (tests/throwaway_kind.py, registered in the server for this test) is in
the palette under its group with its icon, shows its summary, grows the output its data asks for and
connects: the editor learns every kind from GET /api/node-kinds and names none."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import connect, create_workflow, drop_kind, node, select_node, sign_up
from tests.throwaway_kind import stamp_registered

pytestmark = pytest.mark.browser


@pytest.fixture
def stamp_kind():
    # The live server runs in this process, so what the registry holds is what the API serves.
    with stamp_registered() as kind:
        yield kind


def test_a_kind_registered_on_the_server_works_in_the_editor_unchanged(page, site, stamp_kind, artifacts):
    sign_up(page, site)
    create_workflow(page, "Stamped")

    group = page.locator('.palette__group[data-group="Test kit"]')
    expect(group.locator(".palette__heading")).to_have_text("Test kit")
    item = group.locator('.palette__item[data-kind="stamp"]')
    expect(item.locator(".palette__icon")).to_have_text("✂")
    expect(item).to_contain_text("Stamp")

    for kind, x, y in [("text", 20, 30), ("stamp", 300, 30), ("debug", 580, 30)]:
        page.locator(f'.palette__item[data-kind="{kind}"]').scroll_into_view_if_needed()
        drop_kind(page, kind, x, y)
    stamp = node(page, "stamp-1")
    expect(stamp.locator(".node__icon")).to_have_text("✂")
    expect(stamp.locator(".node__summary")).to_have_text("Stamps ✓")
    mark = '.port--out[data-node="stamp-1"][data-port="mark"]'
    expect(page.locator(mark)).to_have_count(0)

    # Its data-dependent output appears when the setting asks for it, and connects like any port.
    select_node(page, "stamp-1")
    page.locator("#field-stamp-1-withMark").check()
    expect(page.locator(mark)).to_have_count(1)
    expect(stamp.locator(".node__summary")).to_have_text("Stamps ✓ · mark output")
    connect(page, "text-1", "text", "stamp-1", "text")
    connect(page, "stamp-1", "mark", "debug-1", "value")
    expect(page.locator('.edge[data-id="e-text-1.text-stamp-1.text"]')).to_have_count(1)
    expect(page.locator('.edge[data-id="e-stamp-1.mark-debug-1.value"]')).to_have_count(1)
    page.screenshot(path=str(artifacts / "new-kind.png"))

    # The server knows the kind too: the graph saves.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-state")).to_have_text("Saved · version 2")

    # Without the setting the output goes, and its edge with it.
    select_node(page, "stamp-1")
    page.locator("#field-stamp-1-withMark").uncheck()
    expect(page.locator(mark)).to_have_count(0)
    expect(page.locator('.edge[data-id="e-stamp-1.mark-debug-1.value"]')).to_have_count(0)
