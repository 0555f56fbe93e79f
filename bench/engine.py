"""Engine benchmark: parallel fan-in against the critical path, and per-node overhead on a chain.

    .venv/bin/python -m bench.engine

(a) 20 independent LLM nodes (real google-genai SDK against the fake server at 200 ms latency)
    feed one Prompt join: wall time against the critical path and against running them serially.
(b) A 1,000-node chain (a Text node, then Prompt nodes "{{previous}}", each passing the text on):
    engine overhead per node, i.e. the whole run's time divided by the number of nodes.
"""

from __future__ import annotations

import multiprocessing
import threading
import time

from engine import (
    ExecutionContext,
    Limits,
    LLMRequest,
    MemorySink,
    ProviderConfig,
    RunOptions,
    RunStatus,
    build_llm_client,
    execute_graph,
)
from tests.fakes.llm_server import FakeLLMServer
from tests.graphs import edge, graph, node

LATENCY_S = 0.2
FAN_IN = 20
CHAIN = 1000


def fan_in_graph() -> dict:
    names = [f"b{i}" for i in range(FAN_IN)]
    nodes = [node("join", "prompt", template=" ".join(f"{{{{{n}}}}}" for n in names))]
    edges = []
    for i, name in enumerate(names):
        nodes += [node(f"q{i}", "text", text=f"question {i}"), node(name, "llm")]
        edges += [edge(f"q{i}", name, None, "prompt"), edge(name, "join", None, name)]
    return graph(nodes, edges)


def chain_graph() -> dict:
    nodes = [node("n0", "text", text="start")]
    nodes += [node(f"n{i}", "prompt", template="{{previous}}") for i in range(1, CHAIN)]
    edges = [edge(f"n{i - 1}", f"n{i}") for i in range(1, CHAIN)]
    return graph(nodes, edges)


def run(graph: dict, context: ExecutionContext, options: RunOptions) -> float:
    start = time.perf_counter()
    outcome = execute_graph(graph, context=context, sink=MemorySink(), options=options)
    elapsed = time.perf_counter() - start
    assert outcome.status is RunStatus.succeeded, outcome.error_summary
    return elapsed


def raw_sdk_calls(context: ExecutionContext) -> float:
    """The floor: the same 20 calls on bare threads, without the engine."""
    assert context.llm is not None
    llm = context.llm
    threads = [
        threading.Thread(target=llm.generate, args=(LLMRequest(prompt=f"question {i}"),))
        for i in range(FAN_IN)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def serve(urls: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    with FakeLLMServer(latency_s=LATENCY_S) as server:
        urls.put(server.url)
        stop.wait()


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    # The fake server gets its own process, as a real provider would: in this one it would
    # compete with the SDK calls for the GIL and inflate the engine's figures.
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(urls, stop), daemon=True)
    server.start()
    try:
        config = ProviderConfig(gemini_api_key="bench", gemini_base_url=urls.get(timeout=10), timeout_s=10)
        context = ExecutionContext(llm=build_llm_client(config))
        graph = fan_in_graph()
        run(graph, context, RunOptions(concurrency=FAN_IN))  # warm-up: connections, imports
        parallel = run(graph, context, RunOptions(concurrency=FAN_IN))
        serial = run(graph, context, RunOptions(concurrency=1))
        raw = raw_sdk_calls(context)
    finally:
        stop.set()
        server.join(5)
    critical = LATENCY_S
    rows.append((f"(a) {FAN_IN} LLM nodes -> join, concurrency {FAN_IN}", f"{parallel * 1000:.0f} ms", ""))
    rows.append(("    critical path (one 200 ms call)", f"{critical * 1000:.0f} ms", ""))
    rows.append(("    wall / critical path", f"{parallel / critical:.2f}x", "goal <= 1.15x"))
    rows.append(
        ("    same 20 SDK calls on bare threads, no engine", f"{raw * 1000:.0f} ms", f"{raw / critical:.2f}x")
    )
    rows.append(
        ("    same nodes one after another", f"{serial * 1000:.0f} ms", f"{serial / parallel:.1f}x slower")
    )
    # Limits raised: the chain is larger than the default 500 nodes.
    chain_options = RunOptions(limits=Limits(max_nodes=CHAIN, max_edges=CHAIN))
    chain = chain_graph()
    run(chain, ExecutionContext(), chain_options)
    best = min(run(chain, ExecutionContext(), chain_options) for _ in range(3))
    rows.append((f"(b) {CHAIN}-node chain, total (best of 3)", f"{best * 1000:.0f} ms", ""))
    rows.append(("    engine overhead per node", f"{best / CHAIN * 1000:.3f} ms", "goal < 0.2 ms"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  note")
    print("-" * (width + 30))
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
