"""What a run may spend and store: the LLM caps and the context's budget, reserved before a model call
starts and settled after it, and the byte limits on one node's output and on what the run's results store.

Only the coordinating thread changes a `RunBudgets`; `measure_output` reads nothing that changes, so it runs
on the node's worker thread, off the coordinating one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.caps import LLMCaps
from engine.costs import Budget
from engine.graph import Node
from engine.kinds.base import NodeOutput, OutputTooLarge
from engine.results import json_size


@dataclass(frozen=True)
class Refusal:
    """Why a node may not start: `kind` is its failed result's error kind (`cost_cap`, `budget` or
    `output_limit`); `keeps_inputs`, whether that result records the inputs it would have had."""

    kind: str
    message: str
    keeps_inputs: bool = True


class RunBudgets:
    def __init__(
        self,
        *,
        caps: LLMCaps,
        budget: Budget | None,
        max_node_output_bytes: int | None,
        max_run_output_bytes: int | None,
    ) -> None:
        self.caps = caps
        self.budget = budget
        self.node_limit = max_node_output_bytes
        self.run_limit = max_run_output_bytes
        self.measures = max_node_output_bytes is not None or max_run_output_bytes is not None
        # The first cap a call ran into: it names the run's failure.
        self.cap_message: str | None = None
        # What the run's results store so far: each node's output and its inputs (copies of upstream
        # outputs, so a fan-out multiplies them).
        self.stored_bytes = 0

    def count_reused(self, output: Mapping[str, Any]) -> None:
        """A reused node's output is stored again, as this run's result."""
        if self.run_limit is not None:
            self.stored_bytes += json_size(output)

    def admit(
        self, node: Node, data: Mapping[str, Any], inputs: Mapping[str, Any], *, count_inputs: bool = True
    ) -> int | Refusal:
        """Reserve what starting `node` takes: its model call's most against the caps and the budget, and
        its inputs (which its result keeps a copy of) against the run's stored output, unless an earlier
        attempt of the node counted them (`count_inputs` false). Returns the tokens reserved, or why the
        node may not start (then nothing stays reserved)."""
        kind = node.kind
        reserved = 0
        if kind.uses_llm:
            prompt_tokens, output_tokens = kind.token_estimate(data, inputs)
            reserved = prompt_tokens + output_tokens
            refusal = self.caps.reserve(reserved)
            if refusal is not None:
                self.cap_message = self.cap_message or refusal
                return Refusal("cost_cap", refusal)
            if self.budget is not None:
                # A chain is priced by its first model, the one that normally answers.
                model = next(iter(data.get("models") or ()), None)
                refusal = self.budget.reserve(
                    node_id=node.id, model=model, input_tokens=prompt_tokens, output_tokens=output_tokens
                )
                if refusal is not None:
                    self.caps.cancel(reserved)
                    return Refusal("budget", refusal)
        if (run_limit := self.run_limit) is not None and count_inputs:
            inputs_size = json_size(inputs)
            if self.stored_bytes + inputs_size > run_limit:
                message = (
                    f"its inputs ({inputs_size:,} bytes) would take the run's stored output "
                    f"past the run's limit of {run_limit:,} bytes"
                )
                self.release(node)
                if kind.uses_llm:
                    self.caps.cancel(reserved)
                return Refusal("output_limit", message, keeps_inputs=False)
            self.stored_bytes += inputs_size
        return reserved

    def output_budget(self) -> int | None:
        """What the next node's output may take: the node limit, or what the run has left if less."""
        node_limit, run_limit = self.node_limit, self.run_limit
        left = None if run_limit is None else max(0, run_limit - self.stored_bytes)
        return min((b for b in (node_limit, left) if b is not None), default=None)

    def measure_output(self, output: NodeOutput) -> int:
        """The output's size as stored (0 when no limit needs it), refusing one over the node limit. Runs on
        the node's worker thread; the run's total is checked by `store_output` on the coordinating one."""
        size = json_size(output.values) if self.measures else 0
        if self.node_limit is not None and size > self.node_limit:
            message = f"output is {size:,} bytes; the limit for one node is {self.node_limit:,} bytes"
            raise OutputTooLarge(message, output)
        return size

    def store_output(self, size: int) -> str | None:
        """Count a finished node's output towards what the run stores, or say why it would pass the limit."""
        run_limit = self.run_limit
        if run_limit is not None:
            if self.stored_bytes + size > run_limit:
                return (
                    f"output of {size:,} bytes would take the run's stored output "
                    f"past the run's limit of {run_limit:,} bytes"
                )
            self.stored_bytes += size
        return None

    def settle(self, node: Node, reserved_tokens: int, usage: Any) -> None:
        """Replace a call's reservation by what it used (a refused output still spent its tokens), and
        release any budget it held."""
        if not node.kind.uses_llm:
            return
        used = (getattr(usage, "input_tokens", None) or 0) + (getattr(usage, "output_tokens", None) or 0)
        self.caps.settle(reserved_tokens, used)
        self.release(node)

    def release(self, node: Node) -> None:
        if node.kind.uses_llm and self.budget is not None:
            self.budget.release(node_id=node.id)
