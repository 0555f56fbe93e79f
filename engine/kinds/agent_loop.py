"""An Agent's conversation: ask the model, make the tool calls it asks for (a few at once), give it the
results, until it answers without a call. Every limit is checked before the call that would cross it, so an
agent never makes one model or tool call more than its limits allow; crossing one fails the node with kind
`agent_limit`, keeping the transcript.

A call of a tool with `requiresApproval` is not made at once: the agent makes the turn's other calls, then
pauses (`AwaitsDecisions`) with a checkpoint of its conversation, and the run waits. When the agent runs again
it continues from that checkpoint (no model or tool call is made twice): an approved call is made, a rejected
one is an error result for the model. The time spent waiting does not count against `timeoutSeconds`."""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.events import ToolAnswered, ToolCalled
from engine.kinds.agent_checkpoint import ApprovalPauses
from engine.kinds.agent_tools import ToolEnv, ToolFailed, argument_problem, call_tool, preview
from engine.kinds.base import NodeCall, NodeError, NodeOutput
from engine.kinds.structured import answer_problem
from engine.ports import compact_json
from engine.providers.types import (
    LLMRequest,
    LLMResponse,
    ProviderError,
    ToolCall,
    ToolResult,
    ToolSpec,
    Turn,
)

_CHARS_PER_TOKEN = 4  # as the LLM node's estimate
_MILLION = Decimal(1_000_000)
# A tool call's time limit when the agent has no deadline of its own (the node timeout backs it up).
_TOOL_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Limits:
    max_iterations: int
    max_tool_calls: int
    max_tokens: int | None
    max_cost_usd: Decimal | None
    deadline: float | None  # time.monotonic() value, from timeoutSeconds
    timeout_s: float | None
    concurrency: int


class AgentStopped(NodeError):
    """The agent failed (a limit, a provider failure, a cancel): keeps its usage and its transcript."""

    def __init__(self, kind: str, message: str, conversation: Conversation) -> None:
        super().__init__(kind, message)
        self.provider, self.model = conversation.provider, conversation.model
        self.attempts = conversation.attempts
        self.input_tokens, self.output_tokens = conversation.input_tokens, conversation.output_tokens
        self.cost = conversation.cost
        self.kept_output = {"transcript": conversation.transcript}


def estimate_tokens(system: str, turns: tuple[Turn, ...] | list[Turn], specs: list[ToolSpec]) -> int:
    """A model call's prompt at about four characters per token: the instructions, the conversation so far
    and the tools' declarations."""
    chars = len(system) + sum(
        len(turn.text)
        + sum(len(compact_json(c.arguments)) + len(c.name) for c in turn.tool_calls)
        + sum(len(compact_json(r.content)) for r in turn.results)
        for turn in turns
    )
    chars += sum(len(s.name) + len(s.description) + len(compact_json(s.parameters)) for s in specs)
    return -(-chars // _CHARS_PER_TOKEN)


class Conversation(ApprovalPauses):
    def __init__(
        self,
        call: NodeCall,
        *,
        tools: list[Mapping[str, Any]],
        specs: list[ToolSpec],
        chain: tuple[str, ...],
        skip_missing: bool,
        system: str,
        prompt: str,
        schema: Mapping[str, Any] | None,
        limits: Limits,
    ) -> None:
        self.call, self.specs, self.chain, self.skip_missing = call, specs, chain, skip_missing
        self.tools = {tool["name"]: tool for tool in tools}
        self.system, self.schema, self.limits = system, schema, limits
        self.turns: list[Turn] = [Turn("user", prompt)]
        self.transcript: list[dict[str, Any]] = []
        self.iterations = self.tool_calls = self.attempts = 0
        self.input_tokens = self.output_tokens = 0
        self.cost: Decimal | None = Decimal(0) if call.context.prices is not None else None
        self.provider: str | None = None
        self.model: str | None = None
        self.handed_back = 0  # tokens used by calls after the first, counted against the run's caps here
        self.cancelled_child: str | None = None  # a workflow tool's child run that was cancelled
        self.clock_start = time.monotonic()
        self.elapsed_before = 0.0  # the time the agent ran before its last pause
        self.checkpoint: Mapping[str, Any] | None = None  # the one it continues from
        self.paused_turn: Mapping[str, Any] | None = None  # that checkpoint's turn, whose calls waited

    def run(self) -> NodeOutput:
        try:
            return self._converse()
        finally:
            # The executor settles the node's first reservation against its whole usage: take back what the
            # later calls counted, so that no token is counted twice.
            if self.call.caps is not None and self.handed_back:
                self.call.caps.settle(self.handed_back, 0)

    def _converse(self) -> NodeOutput:
        while True:
            if self.paused_turn is not None:
                calls, asked, results = self._resume_turn(self.paused_turn)
            else:
                response = self._ask()
                asked_for = tuple(
                    ToolCall(f"call_{self.tool_calls + i + 1}", c.name, c.arguments, c.signature)
                    for i, c in enumerate(response.tool_calls)
                )
                self.turns.append(Turn("model", response.text, asked_for))
                if not asked_for:
                    answer = self._answer(response.text)
                    if answer is not None:
                        return NodeOutput(
                            {"answer": answer[0], "transcript": self.transcript},
                            provider=self.provider,
                            model=self.model,
                            attempts=self.attempts,
                            input_tokens=self.input_tokens,
                            output_tokens=self.output_tokens,
                            cost=self.cost,
                        )
                    continue
                asked = len(asked_for)
                # A call waiting for a person counts from when it is asked: no one is asked about a call the
                # limit would not allow.
                calls = asked_for[: max(0, self.limits.max_tool_calls - self.tool_calls)]
                self.tool_calls += len(calls)
                results = self._take_turn(calls, asked)
            self.turns.append(Turn("tools", results=tuple(results)))
            if asked > len(calls):
                self._stop(
                    "agent_limit",
                    f"maxToolCalls: the model asked for {asked} more tool calls and only {len(calls)} of "
                    f"the {self.limits.max_tool_calls} allowed were left",
                )

    def _answer(self, text: str) -> tuple[Any] | None:
        """The final answer (in a one-tuple), or None: it broke the JSON Schema, the model is asked again."""
        if self.schema is None:
            return (text,)
        value, problem = answer_problem(text, self.schema)
        if problem is None:
            return (value,)
        self.call.log("warning", f"the answer does not match the JSON Schema ({problem}); asking again")
        self.turns.append(
            Turn(
                "user",
                f"Your answer does not match the required JSON Schema: {problem}. "
                "Answer again with only JSON that matches the schema.",
            )
        )
        return None

    def _stop(self, kind: str, message: str) -> None:
        raise AgentStopped(kind, message, self)

    # The model ------------------------------------------------------------------------------------------

    def _ask(self) -> LLMResponse:
        call, limits = self.call, self.limits
        if call.stopped():
            self._stop("cancelled", "the run stopped")
        if self.iterations >= limits.max_iterations:
            self._stop(
                "agent_limit", f"maxIterations: the model was called {self.iterations} times, the limit"
            )
        if limits.deadline is not None and time.monotonic() >= limits.deadline:
            self._stop("agent_limit", f"timeoutSeconds: the agent ran for its {limits.timeout_s:g} seconds")
        max_output = int(call.data["maxOutputTokens"])
        estimate = estimate_tokens(self.system, self.turns, self.specs) + max_output
        used = self.input_tokens + self.output_tokens
        if limits.max_tokens is not None and used + estimate > limits.max_tokens:
            self._stop(
                "agent_limit",
                f"maxTokens: the next model call may use {estimate} tokens and {limits.max_tokens - used} of "
                f"the {limits.max_tokens} remain",
            )
        if limits.max_cost_usd is not None:
            self._check_cost(estimate - max_output, max_output, limits.max_cost_usd)
        reserved = 0
        if self.iterations > 0 and call.caps is not None:
            refusal = call.caps.reserve(estimate)
            if refusal is not None:
                self._stop("cost_cap", refusal)
            reserved = estimate
        self.iterations += 1
        request = LLMRequest(
            prompt="",
            system=self.system or None,
            models=self.chain,
            skip_missing_connections=self.skip_missing,
            temperature=call.data["temperature"],
            max_output_tokens=max_output,
            json_schema=self.schema,
            conversation=tuple(self.turns),
            tools=tuple(self.specs),
        )
        assert call.context.llm is not None
        try:
            response = call.context.llm.generate(request, log=call.log)
        except ProviderError as exc:
            if reserved:
                call.caps.settle(reserved, 0)  # type: ignore[union-attr]
            self.attempts += exc.attempts
            self._stop(exc.kind, exc.message)
        self._count(response, reserved)
        return response

    def _check_cost(self, prompt_tokens: int, max_output: int, max_cost: Decimal) -> None:
        prices, reference = self.call.context.prices, self.chain[0] if self.chain else None
        price = prices.price_for(None, reference) if prices is not None else None
        spent = self.cost
        if price is None or spent is None:
            self._stop(
                "agent_limit",
                f"maxCostUsd: the price of {reference} is not known, so a call's cost cannot be bounded",
            )
            return
        most = (prompt_tokens * price.input + max_output * price.output) / _MILLION
        if spent + most > max_cost:
            self._stop(
                "agent_limit",
                f"maxCostUsd: the next model call may cost ${most:.6f} and ${max_cost - spent:.6f} of the "
                f"${max_cost} remain",
            )

    def _count(self, response: LLMResponse, reserved: int) -> None:
        used_in, used_out = response.input_tokens or 0, response.output_tokens or 0
        if reserved:
            self.call.caps.settle(reserved, used_in + used_out)  # type: ignore[union-attr]
            self.handed_back += used_in + used_out
        self.input_tokens += used_in
        self.output_tokens += used_out
        self.attempts += response.attempts
        self.provider, self.model = response.provider, response.model
        cost = None
        if self.call.context.prices is not None:
            cost = self.call.context.prices.cost(response.provider, response.model, used_in, used_out)
        self.cost = None if cost is None or self.cost is None else self.cost + cost
        if response.reference in self.chain:
            # After a fallback the conversation stays on the model that took it over.
            self.chain = self.chain[self.chain.index(response.reference) :]
        self.transcript.append(
            {
                "type": "model",
                "provider": response.provider,
                "model": response.model,
                "inputTokens": used_in,
                "outputTokens": used_out,
                "cost": None if cost is None else float(cost),
                "text": response.text,
                "toolCalls": len(response.tool_calls),
            }
        )

    # The tools ------------------------------------------------------------------------------------------

    def _take_turn(self, calls: tuple[ToolCall, ...], asked: int) -> list[ToolResult]:
        """Make the turn's calls; pause once those that need no approval are made if some need one."""
        waiting = [c for c in calls if self._needs_approval(c)]
        held = {c.id for c in waiting}
        made = self._run_tools([c for c in calls if c.id not in held])
        if waiting:
            for tool_call in waiting:
                step = {"type": "approval", "id": tool_call.id, "tool": tool_call.name}
                self.transcript.append(step | {"arguments": tool_call.arguments, "decision": None})
            self.checkpoint = self._checkpoint(calls, asked, made, waiting)
            self._pause(waiting)
        return [made[c.id] for c in calls]

    def _run_tools(self, calls: list[ToolCall]) -> dict[str, ToolResult]:
        """Make the calls, at most `concurrency` at once; their steps join the transcript in the calls'
        order."""
        if not calls:
            return {}
        done: queue.SimpleQueue[tuple[int, ToolResult, dict[str, Any]]] = queue.SimpleQueue()
        slots = threading.Semaphore(self.limits.concurrency)

        def work(index: int, tool_call: ToolCall) -> None:
            with slots:
                result, step = self._one_tool(tool_call)
            done.put((index, result, step))

        for index, tool_call in enumerate(calls):
            # In a copy of the node's context, so that what the app keeps there (its trace) follows the tool.
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(work, index, tool_call),
                name="weft-agent-tool",
                daemon=True,
            ).start()
        results: list[ToolResult | None] = [None] * len(calls)
        steps: list[dict[str, Any] | None] = [None] * len(calls)
        for _ in calls:
            while True:
                if self.call.stopped():
                    self._stop("cancelled", "the run stopped during a tool call")
                try:
                    index, result, step = done.get(timeout=0.1)
                    break
                except queue.Empty:
                    continue
            results[index], steps[index] = result, step
        self.transcript.extend(step for step in steps if step is not None)
        if self.cancelled_child is not None:
            self._stop("cancelled", f"child run {self.cancelled_child} was cancelled")
        return {result.call_id: result for result in results if result is not None}

    def _one_tool(self, tool_call: ToolCall) -> tuple[ToolResult, dict[str, Any]]:
        call = self.call
        call.emit(ToolCalled(call.node_id, tool_call.id, tool_call.name, preview(tool_call.arguments)))
        started = time.monotonic()
        child_run_id: str | None = None
        spec = next((s for s in self.specs if s.name == tool_call.name), None)
        try:
            if spec is None:
                raise ToolFailed(f"there is no tool named {tool_call.name!r}")
            if (problem := argument_problem(spec, tool_call.arguments)) is not None:
                raise ToolFailed(problem)
            left = None if self.limits.deadline is None else self.limits.deadline - time.monotonic()
            env = ToolEnv(
                node_id=call.node_id,
                context=call.context,
                log=call.log,
                stopped=call.stopped,
                timeout_s=max(0.1, left) if left is not None else _TOOL_TIMEOUT_S,
                max_bytes=call.max_output_bytes,
            )
            answer = call_tool(self.tools[tool_call.name], tool_call.arguments, env)
            result = ToolResult(tool_call.id, tool_call.name, answer.value)
            child_run_id = answer.child_run_id
        except ToolFailed as failure:
            result = ToolResult(tool_call.id, tool_call.name, failure.message, is_error=True)
            child_run_id = failure.child_run_id
            if failure.cancelled:
                self.cancelled_child = child_run_id
        except Exception as exc:  # a tool's bug must not end the conversation: the model reads it
            result = ToolResult(tool_call.id, tool_call.name, f"{type(exc).__name__}: {exc}", is_error=True)
        duration_ms = round((time.monotonic() - started) * 1000)
        call.emit(
            ToolAnswered(
                call.node_id,
                tool_call.id,
                tool_call.name,
                preview(result.content),
                result.is_error,
                duration_ms,
                child_run_id,
            )
        )
        step = {
            "type": "tool",
            "id": tool_call.id,
            "tool": tool_call.name,
            "arguments": tool_call.arguments,
            ("error" if result.is_error else "result"): result.content,
            "durationMs": duration_ms,
            "childRunId": child_run_id,
        }
        return result, step
