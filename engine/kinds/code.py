"""Code: the user's `main(inputs)` in Python or JavaScript, run in a sandbox (engine/sandbox) through
`context.code`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.kinds.rules import NAME
from engine.ports import Port, compact_json
from engine.sandbox.types import LANGUAGES, CodeJob

# The ceiling of the schema; the sandbox holds a job to the deployment's CODE_MAX_TIMEOUT_SECONDS.
MAX_TIMEOUT_SECONDS = 300
_ERROR_KINDS = {
    "error": "code_error",
    "timeout": "code_timeout",
    "memory": "code_memory",
    "output_limit": "code_output_limit",
    "unavailable": "code_unavailable",
}


@register
class CodeKind(NodeKind):
    type = "code"
    times_itself = True
    label = "Code"
    description = "Runs your main(inputs) in Python or JavaScript, sandboxed; it returns a JSON value."
    palette_group = "Tools"
    palette_order = 107
    icon = "λ"
    summary = {"choose": [{"text": "{language}"}]}
    outputs = (Port("result", "json"), Port("text", "text"))
    # One optional input of any type per name in `inputs`; `main` receives them as a dict by name.
    inputs_from = {"names": "inputs", "type": "any"}
    data_schema = {
        "type": "object",
        "properties": {
            "language": {"type": "string", "title": "Language", "enum": list(LANGUAGES), "default": "python"},
            "code": {
                "type": "string",
                "title": "Code",
                "format": "code",
                "default": "def main(inputs):\n    return inputs\n",
                "description": "Define main(inputs): it gets the inputs by name and returns a JSON value.",
            },
            "inputs": {
                "type": "array",
                "title": "Inputs",
                "items": {"type": "string"},
                "default": [],
                "description": 'Names of the input ports, e.g. ["text", "items"].',
            },
            "timeoutSeconds": {
                "type": "number",
                "title": "Timeout (seconds)",
                "minimum": 0.1,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": 5,
            },
        },
    }

    def check(self, data: Mapping[str, Any], connected: frozenset[str]) -> list[tuple[str, str]]:
        names = data.get("inputs")
        if names is None:
            return []
        if not isinstance(names, list):
            return [("inputs", "must be a list of names")]
        problems = [
            ("inputs", f"{name!r} is not a port name: letters, digits and _, like text_1")
            for name in names
            if not isinstance(name, str) or not NAME.fullmatch(name)
        ]
        if len(set(map(str, names))) != len(names):
            problems.append(("inputs", "names must differ"))
        return problems

    def run(self, call: NodeCall) -> NodeOutput:
        runner = call.context.code
        if runner is None:
            raise NodeError("code_unavailable", "Code nodes are not available in this deployment")
        job = CodeJob(
            language=call.data["language"],
            code=call.data["code"],
            inputs={name: call.inputs.get(name) for name in call.data["inputs"]},
            timeout_s=float(call.data["timeoutSeconds"]),
            max_result_bytes=call.max_output_bytes,
        )
        answer = runner.run(job)
        if answer.printed:
            call.log("info", answer.printed.rstrip("\n"))
        if answer.error_kind is not None:
            message = answer.message if answer.line is None else f"{answer.message}\n(line {answer.line})"
            raise NodeError(_ERROR_KINDS.get(answer.error_kind, "code_error"), message)
        # A string is its own text; anything else reads as a json output feeding a text input would.
        text = answer.value if isinstance(answer.value, str) else compact_json(answer.value)
        return NodeOutput({"result": answer.value, "text": text})
