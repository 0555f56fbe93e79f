"""The engine as this deployment configures it: graph limits, run options, LLM providers, prices and
the code sandbox from settings."""

from __future__ import annotations

import deno
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import engine
from engine.sandbox import SandboxPool, shared_code_runner


def graph_limits() -> engine.Limits:
    return engine.Limits(
        max_nodes=settings.GRAPH_MAX_NODES,
        max_edges=settings.GRAPH_MAX_EDGES,
        max_text_chars=settings.GRAPH_MAX_TEXT_CHARS,
    )


def run_options() -> engine.RunOptions:
    return engine.RunOptions(
        concurrency=settings.RUN_CONCURRENCY,
        node_timeout_s=settings.RUN_NODE_TIMEOUT_SECONDS,
        run_timeout_s=settings.RUN_TIMEOUT_SECONDS,
        poll_interval_s=0.1,
        max_llm_calls=settings.RUN_MAX_LLM_CALLS,
        max_llm_tokens=settings.RUN_MAX_LLM_TOKENS,
        max_node_output_bytes=settings.RUN_MAX_NODE_OUTPUT_BYTES,
        max_run_output_bytes=settings.RUN_MAX_OUTPUT_BYTES,
        limits=graph_limits(),
    )


def provider_config() -> engine.ProviderConfig:
    return engine.ProviderConfig(
        gemini_api_key=settings.GEMINI_API_KEY,
        groq_api_key=settings.GROQ_API_KEY,
        gemini_base_url=settings.GEMINI_BASE_URL,
        groq_base_url=settings.GROQ_BASE_URL,
        timeout_s=settings.LLM_TIMEOUT_SECONDS,
        max_attempts=settings.LLM_MAX_ATTEMPTS,
    )


def code_runner() -> SandboxPool:
    """This worker process's sandboxes for Code nodes (started the first time a language is used)."""
    return shared_code_runner(
        deno=deno.find_deno_bin(),
        pyodide_dir=settings.CODE_PYODIDE_DIR,
        memory_mb=settings.CODE_MAX_MEMORY_MB,
        max_timeout_s=settings.CODE_MAX_TIMEOUT_SECONDS,
        max_print_bytes=settings.CODE_MAX_PRINT_BYTES,
        pool_size=settings.CODE_POOL_SIZE,
    )


_loaded: tuple[str, engine.PriceTable] | None = None


def price_table() -> engine.PriceTable:
    """The table of LLM_PRICES_FILE, read once per process (and again if the setting changes)."""
    global _loaded
    path = settings.LLM_PRICES_FILE
    if _loaded is None or _loaded[0] != path:
        try:
            _loaded = (path, engine.PriceTable.load(path))
        except engine.PriceFileError as exc:
            raise ImproperlyConfigured(f"LLM_PRICES_FILE: {exc}") from exc
    return _loaded[1]
