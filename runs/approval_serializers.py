"""API shapes of approval steps: a decision, an approval as its run's detail lists it, and as the inbox
(`GET /api/approvals`) lists it, with its run and workflow."""

from __future__ import annotations

from rest_framework import serializers

from core.pagination import PageSerializer
from runs.models import Approval, ApprovalDecision


class DecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ApprovalDecision.APPROVE, ApprovalDecision.REJECT])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class RunApprovalSerializer(serializers.ModelSerializer):
    nodeId = serializers.CharField(source="node_id")
    onTimeout = serializers.CharField(source="on_timeout")
    requestedAt = serializers.DateTimeField(source="requested_at")
    decidedAt = serializers.DateTimeField(source="decided_at", allow_null=True)
    subject = serializers.JSONField(allow_null=True)

    class Meta:
        model = Approval
        fields = [
            "nodeId",
            "subject",
            "instructions",
            "onTimeout",
            "requestedAt",
            "deadline",
            "decision",
            "comment",
            "decidedAt",
        ]


class ApprovalSerializer(RunApprovalSerializer):
    runId = serializers.UUIDField(source="run_id")
    workflowId = serializers.UUIDField(source="run.workflow_id", allow_null=True)
    workflowName = serializers.CharField(source="run.workflow.name", allow_null=True, default=None)

    class Meta(RunApprovalSerializer.Meta):
        fields = ["runId", "workflowId", "workflowName", *RunApprovalSerializer.Meta.fields]


class ApprovalPageSerializer(PageSerializer):
    results = ApprovalSerializer(many=True)
