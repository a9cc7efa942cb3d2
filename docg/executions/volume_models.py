"""Tables for operating at volume (issue 15): bulk operations over runs.

Imported by docg.executions.models so Django finds them; kept apart so the run
tables' module stays the engine's.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
