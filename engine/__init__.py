"""Weft's workflow engine: graph format, validation, ordering, execution and LLM providers.

Pure Python; it imports nothing from Django. The apps talk to it through `execute_graph` and the
small interfaces it takes: an event sink, an LLM client and an image reader.
"""

from engine.analysis import downstream_of, plan_graph
from engine.callees import callee_summary, graph_llm_calls
from engine.calls import (
    AGENT_KIND,
    CALLEE_KEY,
    CALLER_KINDS,
    MAP_KIND,
    SUBWORKFLOW_KIND,
    ChildOutcome,
    ChildRunsLeft,
    WorkflowCaller,
)
from engine.caps import LLMCaps
from engine.context import ExecutionContext, NodeScope
from engine.costs import Budget, PriceFileError, PriceTable
from engine.decisions import Approvals, Decision
from engine.events import (
    Event,
    EventSink,
    LogLine,
    MemorySink,
    NodeFinished,
    NodeStarted,
    NodeToken,
    NodeTokensReset,
    RunFinished,
    RunStarted,
    ToolAnswered,
    ToolCalled,
)
from engine.executor import execute_graph
from engine.interface import (
    INPUT_KIND,
    INPUT_TYPES,
    OUTPUT_KIND,
    InputsInvalid,
    InputSpec,
    Interface,
    OutputSpec,
    bind_inputs,
    check_input_values,
    graph_interface,
)
from engine.kinds import NodeKind, input_ports_for, node_kind_catalog, output_ports_for, register
from engine.kinds.handling import ErrorHandling
from engine.mcp import McpClient, McpError, McpToolCall, McpToolResult
from engine.options import RunOptions
from engine.ports import Port, port_type_rules
from engine.providers import (
    MODEL_CONNECTION_KINDS,
    ConnectionConfig,
    LLMClient,
    LLMRequest,
    LLMResponse,
    ProviderConfig,
    ProviderError,
    TextStream,
    build_llm_client,
    provider_for,
    shared_llm_client,
)
from engine.results import ApprovalRequested, NodeResult, NodeStatus, RunOutcome, RunStatus
from engine.reuse import (
    Fate,
    MemoryResultStore,
    NodePlan,
    PlannedCalls,
    ResultStore,
    ReuseMode,
    RunPlan,
    StoredResult,
)
from engine.storage import ImageData, ImageDigests, ImageReader
from engine.validation import (
    GraphInvalid,
    Limits,
    ValidationIssue,
    ensure_valid,
    execution_order,
    validate_graph,
)
from engine.web import WebClient, WebError, WebRequest, WebResponse

__all__ = [
    "AGENT_KIND",
    "CALLEE_KEY",
    "CALLER_KINDS",
    "INPUT_KIND",
    "INPUT_TYPES",
    "MAP_KIND",
    "MODEL_CONNECTION_KINDS",
    "OUTPUT_KIND",
    "SUBWORKFLOW_KIND",
    "ApprovalRequested",
    "Approvals",
    "Budget",
    "ChildOutcome",
    "ChildRunsLeft",
    "ConnectionConfig",
    "Decision",
    "ErrorHandling",
    "Event",
    "EventSink",
    "ExecutionContext",
    "Fate",
    "GraphInvalid",
    "ImageData",
    "ImageDigests",
    "ImageReader",
    "InputSpec",
    "InputsInvalid",
    "Interface",
    "LLMCaps",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "Limits",
    "LogLine",
    "McpClient",
    "McpError",
    "McpToolCall",
    "McpToolResult",
    "MemoryResultStore",
    "MemorySink",
    "NodeFinished",
    "NodeKind",
    "NodePlan",
    "NodeResult",
    "NodeScope",
    "NodeStarted",
    "NodeStatus",
    "NodeToken",
    "NodeTokensReset",
    "OutputSpec",
    "PlannedCalls",
    "Port",
    "PriceFileError",
    "PriceTable",
    "ProviderConfig",
    "ProviderError",
    "ResultStore",
    "ReuseMode",
    "RunFinished",
    "RunOptions",
    "RunOutcome",
    "RunPlan",
    "RunStarted",
    "RunStatus",
    "StoredResult",
    "TextStream",
    "ToolAnswered",
    "ToolCalled",
    "ValidationIssue",
    "WebClient",
    "WebError",
    "WebRequest",
    "WebResponse",
    "WorkflowCaller",
    "bind_inputs",
    "build_llm_client",
    "callee_summary",
    "check_input_values",
    "downstream_of",
    "ensure_valid",
    "execute_graph",
    "execution_order",
    "graph_interface",
    "graph_llm_calls",
    "input_ports_for",
    "node_kind_catalog",
    "output_ports_for",
    "plan_graph",
    "port_type_rules",
    "provider_for",
    "register",
    "shared_llm_client",
    "validate_graph",
]
