"""Runs of a workflow graph, the result of every node in a run, and the run's log lines."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Every node that can still run waits for a person (runs/approvals.py): no worker holds the run.
    WAITING = "waiting"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunScope(models.TextChoices):
    FULL = "full"
    NODE = "node"
    SELECTION = "selection"
    FROM = "from"  # one node and everything downstream of it


class ReuseMode(models.TextChoices):
    """Which earlier results with a matching content key a run may reuse (see engine.reuse)."""

    AUTO = "auto"
    NONE = "none"
    ALL = "all"


class RunTrigger(models.TextChoices):
    """How a run was started."""

    EDITOR = "editor"
    API = "api"
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"
    CLI = "cli"
    MCP = "mcp"  # a tools/call at /mcp (trigger_ref: the MCP session and request id)
    RERUN = "rerun"
    SUBWORKFLOW = "subworkflow"  # a child run of a Sub-workflow or Map node (parent_run says whose)
    EVALUATION = "evaluation"  # a row of an experiment (trigger_ref: the experiment's id)


class NodeStatus(models.TextChoices):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    REUSED = "reused"


class LogLevel(models.TextChoices):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class WorkflowRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Each foreign key has its own index: runs by owner, and a workflow's runs (its run summary).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    workflow = models.ForeignKey(
        "workflows.Workflow", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    workflow_version = models.PositiveIntegerField(null=True, blank=True)
    nodes = models.JSONField(default=list, help_text="The graph snapshot that ran: nodes.")
    edges = models.JSONField(default=list, help_text="The graph snapshot that ran: edges.")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    scope = models.CharField(max_length=16, choices=RunScope.choices, default=RunScope.FULL)
    node_ids = models.JSONField(
        default=list, blank=True, help_text="The selected nodes (scope node/selection/from)."
    )
    reuse = models.CharField(max_length=8, choices=ReuseMode.choices, default=ReuseMode.AUTO)
    resumed_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resumptions",
        help_text="The run whose succeeded nodes this one reuses whatever their kind.",
    )
    # A child run, started by a Sub-workflow or Map node of its parent inside the parent's worker; deleted
    # with its parent. Looked up by the `run_parent_created` index (the FK's own index would repeat it).
    parent_run = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="child_runs",
        help_text="For a child run: the run whose Sub-workflow or Map node started it.",
    )
    parent_node_id = models.CharField(
        max_length=200, blank=True, help_text="For a child run: that node's id."
    )
    parent_item = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a Map node's child run: the index of its item."
    )
    total_nodes = models.PositiveIntegerField(default=0)
    succeeded_nodes = models.PositiveIntegerField(default=0)
    failed_nodes = models.PositiveIntegerField(default=0)
    skipped_nodes = models.PositiveIntegerField(default=0)
    reused_nodes = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="USD; null when nothing had a price.",
    )
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    trigger_id = models.CharField(max_length=64, blank=True, help_text="The Dramatiq message id.")
    # OpenTelemetry (runs/tracing.py): the trace the run belongs to, and the span that started it (the parent
    # of its `run` span, sent in every message of the run). Empty while tracing is off.
    trace_id = models.CharField(max_length=32, blank=True, help_text="The OpenTelemetry trace id (hex).")
    trace_parent_id = models.CharField(max_length=16, blank=True, help_text="The span that started the run.")
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.EDITOR)
    trigger_ref = models.CharField(
        max_length=64,
        blank=True,
        help_text="The id of what started the run: the webhook or schedule, or the run a rerun repeats.",
    )
    inputs = models.JSONField(default=dict, blank=True, help_text="The values given for the Input nodes.")
    error_summary = models.TextField(blank=True)
    recoveries = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the run was picked up again after its worker died."
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the run's message was first sent (runs/admission.py); null while it is held back.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status"], name="run_status"),
            models.Index(fields=["owner", "-created_at"], name="run_owner_created_desc"),
            models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat"),
            models.Index(fields=["owner", "trigger", "-created_at"], name="run_owner_trigger_created"),
            models.Index(fields=["parent_run", "created_at"], name="run_parent_created"),
            # The runs held back by fair admission, oldest first per owner.
            models.Index(
                fields=["owner", "created_at"],
                condition=models.Q(status="queued", admitted_at__isnull=True),
                name="run_held_owner_created",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.id} ({self.status})"

    @property
    def graph(self) -> dict[str, list]:
        return {"nodes": self.nodes, "edges": self.edges}

    @property
    def is_finished(self) -> bool:
        return self.status not in ACTIVE_RUN_STATUSES


def workflow_run_summary(run_model: type[models.Model]) -> dict[str, models.Expression]:
    """The UPDATE values of a workflow's `run_count` and `last_run_status`, computed from its runs.

    Takes the run model so that the data migration that first fills them can pass its historical one.
    """
    runs = run_model.objects.filter(workflow=models.OuterRef("pk")).order_by()
    count = runs.values("workflow").annotate(count=models.Count("pk")).values("count")
    return {
        "run_count": Coalesce(models.Subquery(count, output_field=models.IntegerField()), 0),
        "last_run_status": models.Subquery(runs.order_by("-created_at", "-pk").values("status")[:1]),
    }


class NodeResult(models.Model):
    # The foreign key's own index serves a run's results.
    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="node_results")
    # The run's owner, copied so that reuse finds a user's results by content key with one index.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    node_id = models.CharField(max_length=200)
    node_type = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=NodeStatus.choices)
    inputs = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error_kind = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    handled = models.BooleanField(
        default=False, help_text="A failure the node's onError handled: the run went on."
    )
    node_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Node-level attempts that ran (the node's retry); 0 for a node not started."
    )
    attempt_errors = models.JSONField(
        null=True, blank=True, help_text="Each failed attempt's {attempt, kind, message}."
    )
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="USD; null when the model has no price.",
    )
    content_key = models.CharField(max_length=64, blank=True)
    reused_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a reused node: the result whose output it took.",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["status"], name="noderesult_status"),
            # Reuse: a user's succeeded results by content key, from any worker.
            models.Index(
                fields=["owner", "content_key"],
                condition=models.Q(status="succeeded"),
                name="noderesult_owner_key_ok",
            ),
            # Usage and daily budgets: a user's model calls by time.
            models.Index(
                fields=["owner", "created_at"],
                condition=models.Q(model__gt=""),
                name="noderesult_owner_usage",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id"], name="noderesult_unique_node_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.node_id}: {self.status}"


class ExecutionLog(models.Model):
    # The foreign key's own index serves a run's log pages.
    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="logs")
    # NULL marks a run-level line (not "" so that it reads as "no node" in queries and the API).
    node_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    level = models.CharField(max_length=16, choices=LogLevel.choices, default=LogLevel.INFO)
    message = models.TextField()
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["level"], name="log_level")]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:60]}"


class UserBudget(models.Model):
    """A user's daily limits (set in the admin), overriding RUN_DAILY_COST_BUDGET / RUN_DAILY_TOKEN_BUDGET."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budget")
    daily_cost = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, help_text="USD per day; empty: the default."
    )
    daily_tokens = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Input + output tokens per day; empty: the default."
    )

    def __str__(self) -> str:
        return f"budget of {self.owner}"


class BudgetHold(models.Model):
    """Room a model call in flight holds in its owner's daily budget, so that runs in parallel (on any
    worker) cannot together pass the budget. Deleted when the call ends; a hold older than
    RUN_NODE_TIMEOUT_SECONDS belongs to a worker that died and no longer counts."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="budget_holds")
    node_id = models.CharField(max_length=200)
    tokens = models.PositiveBigIntegerField()
    cost = models.DecimalField(max_digits=14, decimal_places=6)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "created_at"], name="budgethold_owner_created")]
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="budgethold_one_per_node")]

    def __str__(self) -> str:
        return f"{self.node_id}: {self.tokens} tokens, ${self.cost}"


class IdempotencyKey(models.Model):
    """The run an `Idempotency-Key` header started: the same request with the same key from the same user
    gets that run back.

    The unique (owner, key) constraint is what makes two concurrent requests with one key start one run:
    the second INSERT waits for the first transaction and then fails.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the request (path and canonical JSON body) the key answers."
    )
    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotencykey_unique_per_owner")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created")]

    def __str__(self) -> str:
        return f"{self.key} -> {self.run_id}"


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"
    TIMEOUT = "timeout"


class Approval(models.Model):
    """An approval step of a run waiting for (or given) a person's decision: an Approval node (`node_id` is
    its id), or a tool call of an Agent (`<agent id>/<tool call id>`). One per run and `node_id`."""

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="approvals")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=200)
    subject = models.JSONField(null=True, blank=True)
    instructions = models.TextField(blank=True)
    on_timeout = models.CharField(max_length=8)
    requested_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    decision = models.CharField(max_length=8, choices=ApprovalDecision.choices, blank=True)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # An Agent's conversation when it paused for this call (engine/kinds/agent_checkpoint.py), from which it
    # goes on once its calls are decided; the same on each call it paused for. Never shown through the API.
    checkpoint = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "decision", "requested_at"], name="approval_owner_open"),
            models.Index(fields=["decision", "deadline"], name="approval_open_deadline"),
        ]
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="approval_one_per_node")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.node_id}: {self.decision or 'waiting'}"
