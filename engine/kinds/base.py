"""The contract every node kind fulfils, and the registry that maps `type` strings to kinds."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from engine.caps import LLMCaps
from engine.context import ExecutionContext
from engine.kinds.handling import ERROR_PORT, SCHEMA_PROPERTIES
from engine.kinds.rules import resolve_ports, rule_ports
from engine.ports import Port
from engine.providers.types import TextStream
from engine.storage import ImageDigests

LogFn = Callable[[str, str], None]
"""`log(level, message)`: a node's way to report progress; levels are debug|info|warning|error."""


class NodeError(Exception):
    """A node failed for a reason worth showing the user; `kind` classifies it (see NodeResult)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class OutputTooLarge(NodeError):
    """An output over its limit; keeps the model bookkeeping of the output that was refused."""

    def __init__(self, message: str, output: NodeOutput | None = None) -> None:
        super().__init__("output_limit", message)
        self.provider = output.provider if output else None
        self.model = output.model if output else None
        self.attempts = output.attempts if output else 0
        self.input_tokens = output.input_tokens if output else None
        self.output_tokens = output.output_tokens if output else None


@dataclass
class NodeCall:
    """Everything a node's `run` receives.

    `data` has the schema defaults filled in; `raw_data` is what the graph holds, for settings
    whose default lives outside the graph (the LLM model comes from the provider configuration).
    `inputs` maps port name to value (a list for `multiple` ports). `max_output_bytes` is what the
    output may take as stored JSON (None: unlimited); a kind that can amplify its inputs checks it
    before building the value, the executor checks every output afterwards. `stream` receives the
    text of a model's answer as it is generated (the executor turns it into NodeToken events).
    `stopped()` turns true once the run has ended (finished, cancelled, failed, past its wall-clock limit):
    the result of a node still running is then discarded, so a kind that loops (Map) starts nothing more.
    A kind that makes more than one model call (Agent) reserves each call after the first against `caps`
    (the run's LLM caps: the executor reserved the first), and reports its progress as events with `emit`
    (the executor hands them to the run's sink).
    """

    node_id: str
    data: Mapping[str, Any]
    raw_data: Mapping[str, Any]
    inputs: Mapping[str, Any]
    context: ExecutionContext
    log: LogFn
    max_output_bytes: int | None = None
    stream: TextStream | None = None
    stopped: Callable[[], bool] = lambda: False
    caps: LLMCaps | None = None
    emit: Callable[[Any], None] = lambda event: None


@dataclass
class NodeOutput:
    """What `run` returns: output values per port, plus LLM bookkeeping when a model was called."""

    values: dict[str, Any]
    provider: str | None = None
    model: str | None = None
    attempts: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The cost of calls made on several models (an Agent's fallback mid-conversation); None: priced by
    # `provider`/`model` from the usage.
    cost: Decimal | None = None


class NodeKind:
    """Base class of node kinds. Subclass, fill in the class attributes and `run`, then `@register`.

    `data_schema` lists the properties of `data` (JSON Schema, see engine.schema); every kind also
    accepts a `label` string, the node's display name. The class is the kind's one description: the
    editor learns everything else it shows (palette place, icon, summary, ports that depend on `data`)
    from `describe()`, served as GET /api/node-kinds; no JavaScript names a kind.
    """

    type: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    data_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    # The palette: kinds are listed by `palette_order` (then registration order) under their group's
    # heading; a group comes where its first kind does.
    palette_group: ClassVar[str] = "More"
    palette_order: ClassVar[int] = 1000
    # A glyph for the palette and the node's header (one the page's fonts have: see static/css).
    icon: ClassVar[str] = "◆"
    # The node's one-line summary on the canvas, a rule the editor evaluates (static/js/kinds.js):
    # `{"choose": [part, ...], "append": [part, ...]}`, the first `choose` part that gives a text, then
    # every `append` part that does. A part is `{"when"?: condition, "text": "Model: {model}"}` (`{f}` is
    # data field f, else its schema default, on one line), `{"field": f}` (f's value when not empty) or
    # `{"format": name, ...}`, a generic formatter (`rules`, `callee`: see kinds.js). None: the first
    # non-empty text field, else the description.
    summary: ClassVar[dict[str, Any] | None] = None
    # Ports beyond `inputs` / `outputs` that follow `data` (engine/kinds/rules.py): a Prompt's
    # placeholders, a caller's callee interface.
    inputs_from: ClassVar[dict[str, Any] | None] = None
    outputs_from: ClassVar[dict[str, Any] | None] = None
    # "input" / "output" for the kinds whose nodes make up the workflow's interface (engine/interface.py):
    # the editor names new ones uniquely and builds the Run form from them.
    interface_role: ClassVar[str | None] = None
    # For a kind that holds an image: the data fields of its upload id and URL (the editor shows an image
    # picker and a thumbnail, and an image file dropped on the canvas becomes such a node).
    image_source: ClassVar[dict[str, str] | None] = None
    # For a kind that calls an MCP server's tool: the data fields of its connection slug, tool name,
    # arguments and reuse flag (the editor offers the connection's tools and builds the argument rows from
    # the picked tool's inputSchema).
    tool_source: ClassVar[dict[str, str] | None] = None
    # Whether the kind calls a model, and so counts against the run's LLM cost caps.
    uses_llm: ClassVar[bool] = False
    # Kinds that run whole workflows as child runs (Sub-workflow, Map): bounded by the run's wall-clock
    # limit and their children's own limits rather than by the node timeout.
    runs_workflows: ClassVar[bool] = False
    # Whether the kind enforces its `timeoutSeconds` itself (cutting its request or its sandbox short with a
    # failure of its own); the engine's per-node deadline then only backs it up.
    times_itself: ClassVar[bool] = False
    # Kinds that wait for a person's decision (Approval): the executor starts such a node only once
    # `context.approvals` has its decision; until then the node waits and, when nothing else can run,
    # the run returns `waiting`. `approval_request(data, inputs)` says what the person is asked.
    awaits_decision: ClassVar[bool] = False

    def input_ports(self, data: Mapping[str, Any]) -> tuple[Port, ...]:
        """The input ports of a node with this `data`, as the kind's rules say."""
        ports = resolve_ports(self.inputs, data)
        return (*ports, *rule_ports(self.inputs_from, data)) if self.inputs_from else ports

    def output_ports(self, data: Mapping[str, Any]) -> tuple[Port, ...]:
        """The output ports of a node with this `data`, as the kind's rules say."""
        ports = resolve_ports(self.outputs, data)
        if self.outputs_from:
            ports = (*ports, *rule_ports(self.outputs_from, data))
        return (*ports, ERROR_PORT) if data.get("onError") == "branch" else ports

    def reusable(self, data: Mapping[str, Any]) -> bool:
        """Whether a node with this `data` (defaults applied) computes a pure function of its content
        key, so that an earlier result with the same key may stand in for running it."""
        return True

    def llm_calls(self, data: Mapping[str, Any]) -> int:
        """The model calls one run of a node with this `data` makes, as far as the graph tells (for plans;
        a repair of a structured answer is not foreseen)."""
        return int(self.uses_llm)

    def llm_calls_per_item(self, data: Mapping[str, Any]) -> int:
        """For a kind that runs something once per item of a list known only at run time (Map): the model
        calls of each item."""
        return 0

    def external_digest(self, data: Mapping[str, Any], digests: ImageDigests | None) -> str | None:
        """For kinds whose output stands for content outside the graph (an uploaded image): the digest
        of that content, which is what the nodes it feeds hash, or "" when it cannot be known (a URL).
        None: the output is described by the node's own content key."""
        return None

    def token_estimate(self, data: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[int, int]:
        """(input, output) tokens a call may use at most, reserved against caps before it starts;
        (0, 0) for kinds that call no model."""
        return 0, 0

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        """Checks beyond the schema, as (data property or "", message) pairs.

        `connected` names the input ports that have at least one incoming edge.
        """
        return []

    def run(self, call: NodeCall) -> NodeOutput:
        raise NotImplementedError

    def approval_request(self, node_id: str, data: Mapping[str, Any], inputs: Mapping[str, Any]) -> Any:
        """For a kind that `awaits_decision`: the `ApprovalRequested` a person answers."""
        raise NotImplementedError

    @classmethod
    def full_schema(cls) -> Mapping[str, Any]:
        """`data_schema` with the properties every kind has. Built once per kind and shared: every node
        of a run is validated and keyed against it, so callers read it and never change it."""
        schema = cls.__dict__.get("_full_schema")
        if schema is None:
            schema = copy.deepcopy(cls.data_schema)
            schema.setdefault("type", "object")
            schema.setdefault("properties", {})
            schema["properties"].setdefault("label", {"type": "string", "title": "Label"})
            # A disabled node is skipped, with everything that needs it (see the executor).
            schema["properties"].setdefault("disabled", {"type": "boolean", "title": "Disabled"})
            # What the node does when it fails (engine/kinds/handling.py).
            for name, prop in SCHEMA_PROPERTIES.items():
                schema["properties"].setdefault(name, copy.deepcopy(prop))
            cls._full_schema = schema
        return schema

    @classmethod
    def describe(cls, *, max_text_chars: int) -> dict[str, Any]:
        """This kind's entry in the catalog the editor builds its palette and forms from."""
        schema = copy.deepcopy(cls.full_schema())
        for prop in schema["properties"].values():
            if prop.get("type") == "string" or "string" in prop.get("type", []):
                prop.setdefault("maxLength", max_text_chars)
        entry: dict[str, Any] = {
            "type": cls.type,
            "label": cls.label,
            "description": cls.description,
            "palette": {"group": cls.palette_group, "order": cls.palette_order},
            "icon": cls.icon,
            "inputs": [p.as_input_dict() for p in cls.inputs],
            # Every kind's `error` port comes last, given by `onError: branch`.
            "outputs": [p.as_output_dict() for p in (*cls.outputs, ERROR_PORT)],
            "dataSchema": schema,
        }
        for key, value in (
            ("summary", cls.summary),
            ("inputsFrom", cls.inputs_from),
            ("outputsFrom", cls.outputs_from),
            ("interfaceRole", cls.interface_role),
            ("imageSource", cls.image_source),
            ("toolSource", cls.tool_source),
        ):
            if value is not None:
                entry[key] = copy.deepcopy(value)
        # Kept for API clients: whether the listed ports may differ for a node (see the rules above).
        if cls.inputs_from is not None or any(p.when or p.type_from for p in cls.inputs):
            entry["dynamicInputs"] = True
        if cls.outputs_from is not None or any(p.when or p.type_from for p in cls.outputs):
            entry["dynamicOutputs"] = True
        return entry


_REGISTRY: dict[str, NodeKind] = {}
K = TypeVar("K", bound=type[NodeKind])


def register(kind_class: K) -> K:
    """Class decorator that makes a kind available under its `type` string."""
    if kind_class.type in _REGISTRY:
        raise ValueError(f"node kind {kind_class.type!r} is already registered")
    _REGISTRY[kind_class.type] = kind_class()
    return kind_class


def unregister(type_name: str) -> None:
    """Remove a kind (for tests and plugins that register temporary kinds)."""
    _REGISTRY.pop(type_name, None)


def get_kind(type_name: str) -> NodeKind | None:
    return _REGISTRY.get(type_name)


def all_kinds() -> list[NodeKind]:
    return list(_REGISTRY.values())
