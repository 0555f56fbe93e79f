"""What an Agent node adds per tool round trip: the agent with a Code tool against the same model calls and
the same Code execution made directly, with the fake LLM server at zero latency.

    .venv/bin/python -m bench.agent [--runs 200] [--pool 2]

One round trip is the model asking for the tool, the tool's run and the model's answer to its result. The
agent side is a whole run of a one-node graph (`execute_graph`: validation, planning, the worker thread, the
conversation, the tool's thread, the transcript); the direct side makes the same two `generate` calls (the
same conversation, built by hand) and the same `SandboxPool.run`. Both use one client and one warm pool. Goal:
at most 5 ms added per round trip at p50.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import deno

from engine import ExecutionContext, MemorySink, ProviderConfig, build_llm_client, execute_graph
from engine.providers.types import LLMRequest, ToolCall, ToolResult, ToolSpec, Turn
from engine.sandbox import CodeJob, SandboxConfig, SandboxPool
from tests.fakes.llm_server import FakeLLMServer

CODE = "function main(inputs) { return inputs.n + 1; }"
PROMPT = '[[call add_one {"n": 41}]]'
TOOL = {"name": "add_one", "description": "Adds one", "type": "code", "language": "javascript", "code": CODE}
GRAPH = {
    "nodes": [
        {"id": "agent", "type": "agent", "data": {"prompt": PROMPT, "tools": [{**TOOL, "inputs": ["n"]}]}}
    ],
    "edges": [],
}
MODELS = ("groq/fake-chat",)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def agent_round_trip(context: ExecutionContext) -> float:
    graph = {
        **GRAPH,
        "nodes": [{**GRAPH["nodes"][0], "data": {**GRAPH["nodes"][0]["data"], "models": list(MODELS)}}],
    }
    started = time.perf_counter()
    outcome = execute_graph(graph, context=context, sink=MemorySink())
    elapsed = (time.perf_counter() - started) * 1000
    if outcome.results["agent"].status != "succeeded":
        raise SystemExit(f"the agent failed: {outcome.results['agent'].error_message}")
    return elapsed


def direct_round_trip(context: ExecutionContext, pool: SandboxPool) -> float:
    assert context.llm is not None
    spec = ToolSpec("add_one", "Adds one", {"type": "object", "properties": {"n": {}}})
    first = [Turn("user", PROMPT)]
    base = {"prompt": "", "models": MODELS, "temperature": 0.7, "max_output_tokens": 1024, "tools": (spec,)}
    started = time.perf_counter()
    asked = context.llm.generate(LLMRequest(**base, conversation=tuple(first)))
    call = asked.tool_calls[0]
    answer = pool.run(CodeJob(language="javascript", code=CODE, inputs=call.arguments, timeout_s=5))
    turns = [
        *first,
        Turn("model", "", (ToolCall("call_1", call.name, call.arguments),)),
        Turn("tools", results=(ToolResult("call_1", call.name, answer.value),)),
    ]
    context.llm.generate(LLMRequest(**base, conversation=tuple(turns)))
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pool", type=int, default=2)
    parser.add_argument("--pyodide", default=str(Path(sys.prefix) / "pyodide"))
    args = parser.parse_args()
    config = SandboxConfig(
        deno=deno.find_deno_bin(), pyodide_dir=args.pyodide, work_dir=tempfile.mkdtemp(prefix="bench-agent-")
    )
    pool = SandboxPool(config, size=args.pool)
    try:
        with FakeLLMServer() as server:
            provider = ProviderConfig(groq_api_key="bench", groq_base_url=server.url, max_attempts=1)
            context = ExecutionContext(llm=build_llm_client(provider), code=pool)
            agent_round_trip(context)  # warm: SDK client, sandbox, imports
            direct_round_trip(context, pool)
            agent, direct = [], []
            for _ in range(args.runs):  # interleaved, so that the machine's noise falls on both alike
                pool.warm("javascript")
                agent.append(agent_round_trip(context))
                pool.warm("javascript")
                direct.append(direct_round_trip(context, pool))
    finally:
        pool.close()
    print("| measure | p50 | p95 |")
    print("|---|---|---|")
    for name, values in (("agent (one tool round trip)", agent), ("direct calls", direct)):
        print(f"| {name} | {percentile(values, 0.5):.2f} ms | {percentile(values, 0.95):.2f} ms |")
    added = [a - d for a, d in zip(sorted(agent), sorted(direct), strict=True)]
    print(f"| added by the agent | {percentile(added, 0.5):.2f} ms | {percentile(added, 0.95):.2f} ms |")


if __name__ == "__main__":
    main()
