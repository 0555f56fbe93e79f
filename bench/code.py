"""Code nodes' sandboxes: cold start, warm executions and throughput of one worker process, per language.

    .venv/bin/python -m bench.code [--runs 200] [--cold 5] [--pool 2]

For each language: the cold start (a sandbox started and loaded with nothing else going on), the p50/p95 of
a trivial `main` and of a 10 ms computation taken from a warm pool (the pool refills while the next job
waits its turn, as in a worker), and executions per second with the pool kept busy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import deno

from engine.sandbox import CodeJob, SandboxConfig, SandboxPool
from engine.sandbox.process import Sandbox

TRIVIAL = {
    "python": "def main(inputs):\n    return inputs['n'] + 1\n",
    "javascript": "function main(inputs) { return inputs.n + 1; }",
}
# About 10 ms of CPU on these machines in either language.
COMPUTATION = {
    "python": "def main(inputs):\n    return sum(i * i for i in range(inputs['loops'] * 6_000))\n",
    "javascript": "function main(inputs) {\n  let s = 0;\n"
    "  for (let i = 0; i < inputs.loops * 400_000; i++) s += i * i;\n  return s;\n}\n",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cold_start(config: SandboxConfig, language: str, count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        sandbox = Sandbox(config, language)
        sandbox.wait_ready()
        times.append(time.perf_counter() - started)
        sandbox.close()
    return statistics.median(times)


def warm_latencies(pool: SandboxPool, language: str, code: str, runs: int) -> tuple[list[float], int]:
    """Milliseconds per job, each started once the pool has a loaded sandbox again; and the failures."""
    times, failures = [], 0
    for _ in range(runs):
        pool.warm(language)
        started = time.perf_counter()
        answer = pool.run(CodeJob(language=language, code=code, inputs={"n": 1, "loops": 1}, timeout_s=10))
        times.append((time.perf_counter() - started) * 1000)
        failures += answer.error_kind is not None
    return times, failures


def throughput(pool: SandboxPool, language: str, runs: int) -> float:
    pool.warm(language)
    started = time.perf_counter()
    for _ in range(runs):
        pool.run(CodeJob(language=language, code=TRIVIAL[language], inputs={"n": 1}, timeout_s=10))
    return runs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--pool", type=int, default=2)

    # Where `make install` puts Pyodide (settings.CODE_PYODIDE_DIR's default).
    parser.add_argument("--pyodide", default=str(Path(sys.prefix) / "pyodide"))
    args = parser.parse_args()
    config = SandboxConfig(
        deno=deno.find_deno_bin(), pyodide_dir=args.pyodide, work_dir=tempfile.mkdtemp(prefix="bench-code-")
    )
    pool = SandboxPool(config, size=args.pool)
    print(
        "| language | cold start | trivial p50 / p95 | 10 ms computation p50 / p95 | executions/s | failed |"
    )
    print("|---|---|---|---|---|---|")
    try:
        for language in ("javascript", "python"):
            cold = cold_start(config, language, args.cold)
            trivial, failed_trivial = warm_latencies(pool, language, TRIVIAL[language], args.runs)
            computed, failed_computed = warm_latencies(pool, language, COMPUTATION[language], args.runs)
            rate = throughput(pool, language, args.runs)
            print(
                f"| {language} | {cold * 1000:.0f} ms"
                f" | {percentile(trivial, 0.5):.1f} / {percentile(trivial, 0.95):.1f} ms"
                f" | {percentile(computed, 0.5):.1f} / {percentile(computed, 0.95):.1f} ms"
                f" | {rate:.1f} | {failed_trivial + failed_computed} |"
            )
    finally:
        pool.close()


if __name__ == "__main__":
    main()
