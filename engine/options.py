"""The limits and pace of one run (`RunOptions`), which the apps build from their settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.validation import Limits


@dataclass(frozen=True)
class RunOptions:
    concurrency: int = 8
    node_timeout_s: float = 120.0
    run_timeout_s: float = 900.0
    poll_interval_s: float = 0.1  # how often `should_cancel` is consulted
    max_llm_calls: int | None = None  # LLM/Vision nodes started per run
    # Input + output tokens of LLM/Vision nodes: each call reserves its most (prompt estimate plus
    # maxOutputTokens) before it starts and settles to its actual use after, so parallel calls cannot
    # overshoot it.
    max_llm_tokens: int | None = None
    # Bytes of one node's output, and of what a run's results store (outputs and the inputs copied
    # from them), as compact JSON (None: unlimited).
    max_node_output_bytes: int | None = 1024 * 1024
    max_run_output_bytes: int | None = 10 * 1024 * 1024
    limits: Limits = field(default_factory=Limits)
