"""What a run needs from the outside world: an LLM client, an image reader, a web client, code
sandboxes and data defaults."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.calls import WorkflowCaller
from engine.costs import Budget, PriceTable
from engine.decisions import Approvals
from engine.mcp import McpClient
from engine.providers.types import LLMClient
from engine.sandbox.types import CodeRunner
from engine.storage import ImageDigests, ImageReader
from engine.web import WebClient


class NodeScope(Protocol):
    """Wraps each node's work on its worker thread, where the node's calls (models, tools, child runs) happen:
    the apps open a trace span there, so the engine depends on no tracing library. An exception the node
    raises passes through it."""

    def __call__(self, node_id: str, node_type: str) -> AbstractContextManager[object]: ...


@dataclass
class ExecutionContext:
    """Services handed to every node.

    `defaults` overrides the schema defaults of a kind's `data`, per node type, e.g.
    `{"llm": {"temperature": 0.2}}`; values set on the node itself still win. `image_digests` lets
    content keys cover uploaded images' bytes; `prices` gives each model call its cost; `budget`
    may refuse a model call before it starts; `workflows` runs the child runs of Sub-workflow and Map
    nodes (None: such nodes fail); `web` makes the requests of HTTP Request nodes and `code` runs Code
    nodes' programs in sandboxes (None: such nodes fail); `mcp` calls the tools of MCP Tool nodes (None: such
    nodes fail); `approvals` hands Approval nodes their decision, and Agents theirs on tool calls with
    their checkpoint (None: no one can decide, so such a node waits); `node_scope` wraps each node's work
    (None: nothing).
    """

    llm: LLMClient | None = None
    images: ImageReader | None = None
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    image_digests: ImageDigests | None = None
    prices: PriceTable | None = None
    budget: Budget | None = None
    workflows: WorkflowCaller | None = None
    web: WebClient | None = None
    code: CodeRunner | None = None
    mcp: McpClient | None = None
    approvals: Approvals | None = None
    node_scope: NodeScope | None = None
