"""Approval: the run waits for a person to approve or reject its `subject`, then goes on along one branch.

The node starts only once `context.approvals` has its decision (the executor asks first, see
`NodeKind.awaits_decision`); until then it waits, and a run with nothing else to do returns `waiting`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.decisions import APPROVE, REJECT, TIMEOUT
from engine.kinds.base import NodeCall, NodeError, NodeKind, NodeOutput, register
from engine.kinds.rules import PLACEHOLDER
from engine.ports import Port, compact_json
from engine.results import ApprovalRequested

DEFAULT_WAIT_S = 86400


@register
class ApprovalKind(NodeKind):
    type = "approval"
    label = "Approval"
    description = "Waits for a person to approve or reject its subject; goes on along the branch they chose."
    palette_group = "Logic"
    palette_order = 75
    icon = "✋"
    summary = {"choose": [{"text": "Waits up to {timeoutSeconds} s, then {onTimeout}"}]}
    awaits_decision = True
    inputs = (Port("subject", "any", required=True),)
    outputs = (Port("approved", "any"), Port("rejected", "any"), Port("decision", "json"))
    data_schema = {
        "type": "object",
        "properties": {
            "instructions": {
                "type": "string",
                "title": "Instructions ({{subject}} is the subject)",
                "default": "Please review: {{subject}}",
                "multiline": True,
            },
            "timeoutSeconds": {
                "type": "integer",
                "title": "Wait at most (s)",
                "minimum": 1,
                "default": DEFAULT_WAIT_S,
            },
            "onTimeout": {
                "type": "string",
                "title": "When no one decides",
                "enum": ["reject", "approve", "fail"],
                "default": "reject",
            },
        },
    }

    def reusable(self, data: Mapping[str, Any]) -> bool:
        return False  # a person's decision is never a function of the graph

    def approval_request(
        self, node_id: str, data: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> ApprovalRequested:
        subject = inputs.get("subject")
        text = subject if isinstance(subject, str) else compact_json(subject)
        instructions = PLACEHOLDER.sub(
            lambda m: text if m.group(1).strip() == "subject" else m.group(0), data["instructions"]
        )
        return ApprovalRequested(
            node_id, subject, instructions, float(data["timeoutSeconds"]), data["onTimeout"]
        )

    def run(self, call: NodeCall) -> NodeOutput:
        approvals = call.context.approvals
        decision = approvals.decision(call.node_id) if approvals is not None else None
        if decision is None:
            raise NodeError("configuration", "no decision was handed to this approval")
        outcome = decision.decision
        if outcome == TIMEOUT:
            if call.data["onTimeout"] == "fail":
                raise NodeError("approval_timeout", f"no one decided within {call.data['timeoutSeconds']} s")
            outcome = APPROVE if call.data["onTimeout"] == "approve" else REJECT
        record = {
            "decision": decision.decision,
            "comment": decision.comment,
            "who": decision.who,
            "when": decision.when,
        }
        branch = "approved" if outcome == APPROVE else "rejected"
        return NodeOutput({branch: call.inputs["subject"], "decision": record})
