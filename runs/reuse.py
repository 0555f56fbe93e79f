"""The engine's `ResultStore` over the database: a user's earlier succeeded results by content key.

The lookup uses the partial index on (owner, content_key) of succeeded results, so any worker on any
machine finds what any other recorded; another user's results are never candidates.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from django.db.models import Max

import engine
from accounts.models import User
from runs.models import NodeResult, NodeStatus
from runs.reconnect import reconnecting

_KEYS_PER_QUERY = 500


class OwnerResultStore:
    def __init__(self, *, owner: User, trusted_run_id: uuid.UUID | None = None) -> None:
        self.owner = owner
        # The run being resumed: its results are reused whatever their kind (it is the same run), and
        # its own reused results count too.
        self.trusted_run_id = trusted_run_id
        # Each result `find` handed out, by id, with its run and node: a reused row links to it (and the
        # run detail and live events show where it came from) without a query per node.
        self.origins: dict[int, NodeResult] = {}

    def find(self, keys: Collection[str]) -> Mapping[str, engine.StoredResult]:
        return reconnecting(lambda: self._find(list(keys)))

    def _find(self, wanted: list[str]) -> dict[str, engine.StoredResult]:
        found: dict[str, engine.StoredResult] = {}
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            chunk = wanted[start : start + _KEYS_PER_QUERY]
            # The newest result per key (ids grow with time), without loading the outputs of older ones:
            # a node above temperature 0 may have been run a thousand times.
            newest = (
                NodeResult.objects.filter(
                    owner=self.owner, content_key__in=chunk, status=NodeStatus.SUCCEEDED
                )
                .values("content_key")
                .annotate(newest=Max("id"))
                .values("newest")
            )
            rows = NodeResult.objects.filter(pk__in=newest).values_list(
                "content_key", "id", "run_id", "node_id", "output"
            )
            for key, result_id, run_id, node_id, output in rows:
                found[key] = engine.StoredResult(output or {}, str(run_id), result_id)
                self.origins[result_id] = NodeResult(pk=result_id, run_id=run_id, node_id=node_id)
        if self.trusted_run_id is not None:
            rows = (
                NodeResult.objects.filter(
                    run_id=self.trusted_run_id,
                    owner=self.owner,
                    content_key__in=wanted,
                    status__in=[NodeStatus.SUCCEEDED, NodeStatus.REUSED],
                )
                .exclude(content_key="")
                .values_list(
                    "content_key",
                    "id",
                    "run_id",
                    "node_id",
                    "reused_from_id",
                    "reused_from__run_id",
                    "reused_from__node_id",
                    "output",
                )
            )
            for (
                key,
                result_id,
                run_id,
                node_id,
                original_id,
                original_run_id,
                original_node_id,
                output,
            ) in rows:
                # A reused result points at its original, so links never chain.
                found[key] = engine.StoredResult(
                    output or {}, str(run_id), original_id or result_id, trusted=True
                )
                self.origins[original_id or result_id] = (
                    NodeResult(pk=original_id, run_id=original_run_id, node_id=original_node_id)
                    if original_id
                    else NodeResult(pk=result_id, run_id=run_id, node_id=node_id)
                )
        return found
