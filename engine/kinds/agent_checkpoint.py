"""An Agent's pauses for people's decisions on tool calls (`ApprovalPauses`, part of the conversation in
engine/kinds/agent_loop.py), and its conversation as JSON so that it goes on later from where it stopped: the
provider-neutral turns, the transcript, the counters its limits use and the turn whose calls wait. The apps
store that checkpoint with the approvals (runs.approvals)."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.decisions import APPROVE, REJECT, TIMEOUT, AwaitsDecisions, Decision
from engine.events import ToolAnswered
from engine.kinds.agent_tools import approval_terms, argument_problem, preview
from engine.providers.types import ToolCall, ToolResult, Turn
from engine.results import ApprovalRequested, PausedToolCall

VERSION = 1


def call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments, "signature": call.signature}


def call_from(value: Mapping[str, Any]) -> ToolCall:
    return ToolCall(value["id"], value["name"], value["arguments"], value.get("signature"))


def result_json(result: ToolResult) -> dict[str, Any]:
    return {
        "callId": result.call_id,
        "name": result.name,
        "content": result.content,
        "isError": result.is_error,
    }


def result_from(value: Mapping[str, Any]) -> ToolResult:
    return ToolResult(value["callId"], value["name"], value["content"], bool(value["isError"]))


def turn_json(turn: Turn) -> dict[str, Any]:
    return {
        "role": turn.role,
        "text": turn.text,
        "toolCalls": [call_json(c) for c in turn.tool_calls],
        "results": [result_json(r) for r in turn.results],
    }


def turn_from(value: Mapping[str, Any]) -> Turn:
    return Turn(
        value["role"],
        value["text"],
        tuple(call_from(c) for c in value["toolCalls"]),
        tuple(result_from(r) for r in value["results"]),
    )


class ApprovalPauses:
    """The part of an Agent's `Conversation` (engine/kinds/agent_loop.py, whose state it reads and writes)
    that pauses before calls needing approval and resumes from the checkpoint once they are decided."""

    def restore(self, checkpoint: Mapping[str, Any]) -> None:
        """Continue from where the agent paused: its conversation, transcript and every counter its limits
        use (its deadline moves by the time it waited)."""
        state = copy.deepcopy(dict(checkpoint))
        self.checkpoint = checkpoint
        self.turns = [turn_from(turn) for turn in state["turns"]]
        self.transcript = state["transcript"]
        self.iterations, self.tool_calls, self.attempts = (
            state["iterations"],
            state["toolCalls"],
            state["attempts"],
        )
        self.input_tokens, self.output_tokens = state["inputTokens"], state["outputTokens"]
        self.cost = None if state["cost"] is None or self.cost is None else Decimal(state["cost"])
        self.provider, self.model, self.chain = state["provider"], state["model"], tuple(state["chain"])
        self.elapsed_before = float(state["elapsedSeconds"])
        if self.limits.timeout_s is not None:
            deadline = time.monotonic() + self.limits.timeout_s - self.elapsed_before
            self.limits = replace(self.limits, deadline=deadline)
        self.paused_turn = state["turn"]

    def _needs_approval(self, tool_call: ToolCall) -> bool:
        """An unknown tool or arguments that break its schema are the model's error: no one is asked."""
        tool = self.tools.get(tool_call.name)
        if tool is None or tool.get("requiresApproval") is not True:
            return False
        spec = next((s for s in self.specs if s.name == tool_call.name), None)
        return spec is not None and argument_problem(spec, tool_call.arguments) is None

    def _pause(self, waiting: list[ToolCall]) -> None:
        node_id = self.call.node_id
        requests = []
        for tool_call in waiting:
            timeout_s, on_timeout = approval_terms(self.tools[tool_call.name])
            arguments = preview(tool_call.arguments)
            requests.append(
                ApprovalRequested(
                    f"{node_id}/{tool_call.id}",
                    {"tool": tool_call.name, "arguments": tool_call.arguments},
                    f"The agent {node_id} wants to call the tool {tool_call.name} with {arguments}. "
                    "Approve to make the call; reject to tell the model it was refused.",
                    timeout_s,
                    on_timeout,
                    tool_call=PausedToolCall(node_id, tool_call.id, tool_call.name, arguments),
                    checkpoint=self.checkpoint,
                )
            )
        raise AwaitsDecisions(requests, input_tokens=self.input_tokens, output_tokens=self.output_tokens)

    def _checkpoint(
        self,
        calls: tuple[ToolCall, ...],
        asked: int,
        made: Mapping[str, ToolResult],
        waiting: list[ToolCall],
    ) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "version": VERSION,
                "turns": [turn_json(turn) for turn in self.turns],
                "transcript": self.transcript,
                "iterations": self.iterations,
                "toolCalls": self.tool_calls,
                "attempts": self.attempts,
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "cost": None if self.cost is None else str(self.cost),
                "provider": self.provider,
                "model": self.model,
                "chain": list(self.chain),
                "elapsedSeconds": self.elapsed_before + time.monotonic() - self.clock_start,
                "turn": {
                    "calls": [call_json(c) for c in calls],
                    "asked": asked,
                    "made": [result_json(r) for r in made.values()],
                    "waiting": [c.id for c in waiting],
                },
            }
        )

    def _resume_turn(self, turn: Mapping[str, Any]) -> tuple[tuple[ToolCall, ...], int, list[ToolResult]]:
        """The paused turn's calls, how many the model asked for, and their results once every waiting call
        is decided (approved ones made now); pause again while one is not."""
        self.paused_turn = None
        calls = tuple(call_from(c) for c in turn["calls"])
        results = {r.call_id: r for r in map(result_from, turn["made"])}
        waiting = [c for c in calls if c.id in turn["waiting"]]
        approvals = self.call.context.approvals
        decisions = {
            c.id: approvals.decision(f"{self.call.node_id}/{c.id}") if approvals is not None else None
            for c in waiting
        }
        undecided = [c for c in waiting if decisions[c.id] is None]
        if undecided:
            self._pause(undecided)
        approved = []
        for tool_call in waiting:
            decision = decisions[tool_call.id]
            assert decision is not None
            refusal = self._decided(tool_call, decision)
            if refusal is None:
                approved.append(tool_call)
            else:
                results[tool_call.id] = refusal
        results.update(self._run_tools(approved))
        return calls, int(turn["asked"]), [results[c.id] for c in calls]

    def _decided(self, tool_call: ToolCall, decision: Decision) -> ToolResult | None:
        """Write the decision into the call's approval step; None when the call is to be made, else the error
        result the model reads."""
        step = next(s for s in self.transcript if s["type"] == "approval" and s["id"] == tool_call.id)
        step.update(
            decision=decision.decision, who=decision.who, comment=decision.comment, when=decision.when
        )
        outcome, reason = decision.decision, f"rejected by {decision.who or 'someone'}"
        if decision.comment:
            reason += f": {decision.comment}"
        if outcome == TIMEOUT:
            timeout_s, on_timeout = approval_terms(self.tools[tool_call.name])
            reason = f"no one approved the call within {timeout_s:g} s"
            if on_timeout == "fail":
                self._stop("approval_timeout", f"{tool_call.name} ({tool_call.id}): {reason}")
            outcome = APPROVE if on_timeout == "approve" else REJECT
        if outcome == APPROVE:
            return None
        self.call.emit(
            ToolAnswered(self.call.node_id, tool_call.id, tool_call.name, preview(reason), True, 0, None)
        )
        return ToolResult(tool_call.id, tool_call.name, reason, is_error=True)
