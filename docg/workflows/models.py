import secrets

from django.conf import settings
from django.core.validators import validate_slug
from django.db import models

from docg.common.models import TenantModel
from docg.workflows.choices import NodeKind, WorkflowStatus


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


class Workflow(TenantModel):
    name = models.CharField(max_length=200)
    # The unguessable part of the workflow's inbound URL /hooks/{id}/{secret} (and its HMAC key).
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=WorkflowStatus.choices, default=WorkflowStatus.DRAFT)
    active_version = models.ForeignKey(
        "workflows.WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Set when a workflow with runs is deleted: its runs, documents and signatures stay readable.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "status", "-created_at"], name="workflow_org_status_idx")]

    def __str__(self) -> str:
        return self.name


class WorkflowNode(TenantModel):
    """One step of the editable definition; activation freezes all nodes into a WorkflowVersion."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="nodes")
    key = models.CharField(max_length=64, validators=[validate_slug])
    kind = models.CharField(max_length=10, choices=NodeKind.choices)
    app = models.CharField(max_length=64)
    operation = models.CharField(max_length=64)
    label = models.CharField(max_length=200, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    position = models.JSONField(null=True, blank=True)
    next_key = models.CharField(max_length=64, blank=True)
    branches = models.JSONField(default=list, blank=True)
    else_key = models.CharField(max_length=64, blank=True)
    order = models.PositiveIntegerField(default=0)
    connection = models.ForeignKey(
        "connectors.DataSourceConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["workflow", "order"]
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="node_key_unique_in_workflow")]

    def __str__(self) -> str:
        return f"{self.key} ({self.app}.{self.operation})"


class WorkflowVersion(TenantModel):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="version_number_unique")]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class WorkflowDatastore(TenantModel):
    """Key/value memory a workflow keeps between runs."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="datastore")
    key = models.CharField(max_length=200)
    value = models.JSONField(null=True)

    class Meta:
        ordering = ["workflow", "key"]
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="datastore_key_unique")]

    def __str__(self) -> str:
        return self.key


class WebhookDelivery(TenantModel):
    """An inbound delivery with an idempotency key: the same key never starts a second run."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="deliveries")
    idempotency_key = models.CharField(max_length=200)
    execution = models.ForeignKey(
        "executions.WorkflowExecution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "idempotency_key"], name="webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} {self.idempotency_key}"
