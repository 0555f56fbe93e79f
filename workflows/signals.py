"""Signals of the workflows app, for the apps above it (which it must not import)."""

from django.dispatch import Signal

# Sent once the transaction commits, with `owner_id`, when a workflow's published version appears, changes or
# goes (publish, unpublish, delete): what integrations may run has changed (the MCP server tells its clients).
publication_changed = Signal()
