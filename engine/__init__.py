"""Weft's workflow engine: graph format, validation, ordering, execution and LLM providers.

Pure Python; it imports nothing from Django. The apps talk to it through `execute_graph` and the
small interfaces it takes: an event sink, an LLM client and an image reader.
"""

from engine.context import ExecutionContext
from engine.events import (
    Event,
    EventSink,
    LogLine,
    MemorySink,
    NodeFinished,
    NodeStarted,
    RunFinished,
    RunStarted,
)
from engine.executor import RunOptions, execute_graph
from engine.kinds import NodeKind, input_ports_for, node_kind_catalog, register
from engine.ports import Port
from engine.providers import (
    LLMClient,
    LLMRequest,
    LLMResponse,
    ProviderConfig,
    ProviderError,
    build_llm_client,
)
from engine.results import NodeResult, NodeStatus, RunOutcome, RunStatus
from engine.storage import ImageData, ImageReader
from engine.validation import (
    GraphInvalid,
    Limits,
    ValidationIssue,
    ensure_valid,
    execution_order,
    validate_graph,
)

__all__ = [
    "Event",
    "EventSink",
    "ExecutionContext",
    "GraphInvalid",
    "ImageData",
    "ImageReader",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "Limits",
    "LogLine",
    "MemorySink",
    "NodeFinished",
    "NodeKind",
    "NodeResult",
    "NodeStarted",
    "NodeStatus",
    "Port",
    "ProviderConfig",
    "ProviderError",
    "RunFinished",
    "RunOptions",
    "RunOutcome",
    "RunStarted",
    "RunStatus",
    "ValidationIssue",
    "build_llm_client",
    "ensure_valid",
    "execute_graph",
    "execution_order",
    "input_ports_for",
    "node_kind_catalog",
    "register",
    "validate_graph",
]
