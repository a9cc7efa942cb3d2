"""Tables for operating at volume (issue 15): bulk operations over runs, outgoing event subscriptions.

Imported by docg.executions.models so Django finds them; kept apart so the run
tables' module stays the engine's.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from docg.common.fields import EncryptedTextField
from docg.common.models import TenantModel


class BulkAction(models.TextChoices):
    RETRY = "retry", _("Retry")
    CANCEL = "cancel", _("Cancel")


class BulkStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    CANCELED = "canceled", _("Canceled")


class BulkItemStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


BULK_ACTIVE = (BulkStatus.QUEUED, BulkStatus.RUNNING)


class BulkOperation(TenantModel):
    """One retry or cancel over a set of runs, fixed when it is created, worked through in batches."""

    action = models.CharField(max_length=8, choices=BulkAction.choices)
    status = models.CharField(max_length=10, choices=BulkStatus.choices, default=BulkStatus.QUEUED)
    # The workflow the filter named (None: any): at most one active operation per (organization, workflow).
    workflow = models.ForeignKey(
        "workflows.Workflow", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filter = models.JSONField(default=dict, blank=True)
    from_step = models.CharField(max_length=64, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    canceled = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Pushed forward by every batch; an active operation past it lost its message and is re-sent.
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="bulk_org_created_idx"),
            models.Index(
                fields=["lease_expires_at"], condition=models.Q(status__in=BULK_ACTIVE), name="bulk_active_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"bulk {self.action} {self.pk} ({self.status})"


class BulkOperationItem(TenantModel):
    """One run of a bulk operation; `pending` until a batch acts on it, in the same transaction as the act."""

    operation = models.ForeignKey(BulkOperation, on_delete=models.CASCADE, related_name="items")
    execution = models.ForeignKey("executions.WorkflowExecution", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=BulkItemStatus.choices, default=BulkItemStatus.PENDING)
    # The new run a retry started.
    result_execution = models.ForeignKey(
        "executions.WorkflowExecution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error_code = models.CharField(max_length=100, blank=True)
    error_human = models.TextField(blank=True)

    class Meta:
        ordering = ["operation", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "execution"], name="bulk_item_unique"),
        ]
        indexes = [
            models.Index(fields=["operation", "status"], name="bulk_item_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id} → {self.execution_id} ({self.status})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class EventSubscription(TenantModel):
    """An organization's URL that receives the event types it chose, signed with its secret."""

    url = models.URLField(max_length=1000)
    event_types = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    secret = EncryptedTextField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The organization's audit chain is the outbox: events up to this sequence have their deliveries.
    last_sequence = models.PositiveBigIntegerField(default=0)
    # Since when every attempt failed (None while deliveries succeed); past SUBSCRIPTION_DISABLE_DAYS it is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class EventDelivery(TenantModel):
    """One event for one subscription: its body is fixed when created, so every attempt sends the same bytes."""

    subscription = models.ForeignKey(EventSubscription, on_delete=models.CASCADE, related_name="deliveries")
    # Stable across attempts and re-sends: the receiver deduplicates on it.
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="delivery_event_unique"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"


class DeliveryAttempt(TenantModel):
    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"


class RetentionPolicy(TenantModel):
    """How long an organization keeps ended runs (steps and logs with them) and generated documents.

    None: the default in settings (RETENTION_RUN_DAYS, RETENTION_DOCUMENT_DAYS); 0: forever.
    Audit rows are never purged.
    """

    run_days = models.PositiveIntegerField(null=True, blank=True)
    document_days = models.PositiveIntegerField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="retention_policy_one_per_org")]

    def __str__(self) -> str:
        return f"runs {self.run_days} d, documents {self.document_days} d"
