import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from docg.common.models import TenantModel
from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, LogLevel, StepStatus


class WorkflowExecution(TenantModel):
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="executions")
    workflow_version = models.ForeignKey(
        "workflows.WorkflowVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="executions"
    )
    # Assigned only through docg.executions.state.execution_transition.
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.JSONField(null=True, blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    last_error_human = models.TextField(blank=True)
    last_error_tech = models.JSONField(null=True, blank=True)
    preflight_summary = models.JSONField(null=True, blank=True)
    delivery_state = models.JSONField(null=True, blank=True)
    signature_state = models.JSONField(null=True, blank=True)
    recommended_actions = models.JSONField(default=list, blank=True)
    phase_metrics = models.JSONField(default=dict, blank=True)
    correlation_id = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    trigger_data = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    parent_execution = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    dry_run = models.BooleanField(default=False)
    until_phase = models.CharField(max_length=16, blank=True)
    # A retry's starting node: steps before it reuse the parent's recorded outputs.
    retry_from_step = models.CharField(max_length=64, blank=True)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The executions list: per organization, filtered by status and/or workflow, newest first.
            models.Index(fields=["organization", "-created_at"], name="exec_org_created_idx"),
            models.Index(fields=["organization", "status", "-created_at"], name="exec_org_status_idx"),
            models.Index(fields=["workflow", "-created_at"], name="exec_workflow_created_idx"),
            # The sweep for runs whose start message was lost reads only queued rows.
            models.Index(fields=["updated_at"], condition=models.Q(status="queued"), name="exec_queued_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} run {self.pk} ({self.status})"


class ExecutionStep(TenantModel):
    execution = models.ForeignKey(WorkflowExecution, on_delete=models.CASCADE, related_name="steps")
    node_key = models.CharField(max_length=64)
    index = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    data_in = models.JSONField(null=True, blank=True)
    data_out = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_human = models.TextField(blank=True)
    error_tech = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # A running step's lease; the reaper re-enqueues steps whose lease has passed.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Whose lease it is: a worker records a result only while the token is still its own.
    lease_token = models.UUIDField(null=True, blank=True)
    # The worker process (WorkerHeartbeat) that holds the lease: once it stops beating, the step is orphaned.
    worker_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["execution", "index", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "node_key", "attempt"], name="step_attempt_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="step_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.node_key} #{self.attempt} ({self.status})"


class ExecutionLog(TenantModel):
    execution = models.ForeignKey(WorkflowExecution, on_delete=models.CASCADE, related_name="logs")
    step = models.ForeignKey(ExecutionStep, null=True, blank=True, on_delete=models.CASCADE, related_name="logs")
    timestamp = models.DateTimeField()
    level = models.CharField(max_length=5, choices=LogLevel.choices)
    domain = models.CharField(max_length=10, choices=LogDomain.choices)
    message_human = models.TextField()
    details_tech = models.JSONField(null=True, blank=True)
    correlation_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["execution", "timestamp"]
        indexes = [
            models.Index(fields=["execution", "timestamp"], name="log_exec_time_idx"),
            models.Index(fields=["execution", "level", "domain"], name="log_exec_filter_idx"),
        ]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message_human[:60]}"


class WorkflowApproval(TenantModel):
    execution = models.ForeignKey(WorkflowExecution, on_delete=models.CASCADE, related_name="approvals")
    step = models.ForeignKey(ExecutionStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    node_key = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    message = models.TextField(blank=True)
    approvers = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "status", "-created_at"], name="approval_inbox_idx")]

    def __str__(self) -> str:
        return f"approval {self.node_key} ({self.status})"


class StepMemory(TenantModel):
    """What a provider step remembered of its own outside effects, kept across its retries and takeovers.

    One row per (run, node): every attempt of the step reads the same memory, so an action that
    created something at a provider (a HubSpot note, say) finds it again instead of creating a
    second one. Written only through docg.executions.step_memory; deleted with its run.
    """

    execution = models.ForeignKey(WorkflowExecution, on_delete=models.CASCADE, related_name="+")
    node_key = models.CharField(max_length=64)
    value = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "node_key"], name="step_memory_unique")]

    def __str__(self) -> str:
        return f"{self.execution_id} {self.node_key}"


class OutboxMessage(models.Model):
    """A queue message written in the transaction that made its rows (docg.executions.outbox).

    Deleted once the broker took it; a row still here some seconds after it was due is
    a send that failed after commit (broker down), and a worker sends it again.
    """

    id = models.BigAutoField(primary_key=True)
    queue = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.queue} {self.object_id}"


class WorkerHeartbeat(models.Model):
    """One row per live worker process, refreshed every WORKER_HEARTBEAT_SECONDS (docg.executions.heartbeat).

    A running step names the worker that claimed it, so a step whose worker stopped
    beating is taken over without waiting for its lease to pass.
    """

    id = models.UUIDField(primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class StartRequest(TenantModel):
    """An API start's Idempotency-Key and the answer given, kept IDEMPOTENCY_KEY_HOURS (docg.executions.idempotency)."""

    key = models.CharField(max_length=255)
    # A hash of the method, route and body: the same key sent with another request is refused.
    fingerprint = models.CharField(max_length=64)
    execution = models.ForeignKey(WorkflowExecution, null=True, on_delete=models.CASCADE, related_name="+")
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True, encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="start_request_key_unique")]

    def __str__(self) -> str:
        return self.key


# Issue 15's tables live in their own module; importing them here registers them with the app.
from docg.executions.volume_models import (  # noqa: E402, F401
    BulkOperation,
    BulkOperationItem,
    DeliveryAttempt,
    EventDelivery,
    EventSubscription,
    RetentionPolicy,
)
